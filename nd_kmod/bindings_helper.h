/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel headers the Executor's bindings are generated from. */
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/timer.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/route.h>
#include <net/dst.h>
#include <net/flow.h>

#include "helpers.h"
