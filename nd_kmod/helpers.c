// SPDX-License-Identifier: GPL-2.0
/*
 * Thin wrappers that give static inline kernel functions and macros a symbol the Rust side
 * can call, as the kernel's own rust/helpers/ does. Each one is a direct call; every decision
 * is made in Rust.
 */
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/jiffies.h>
#include <linux/rcupdate.h>
#include <linux/err.h>
#include <linux/percpu.h>
#include <linux/cpumask.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <net/dst.h>
#include <net/netfilter/nf_conntrack.h>

#include "helpers.h"

void *nd_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

struct net *nd_genl_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

struct net *nd_netlink_cb_net(const struct netlink_callback *cb)
{
	return sock_net(cb->skb->sk);
}

struct sk_buff *nd_genlmsg_new(void)
{
	return genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
}

void *nd_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
			   const struct genl_family *family, int flags, u8 cmd)
{
	return genlmsg_put_reply(skb, info, family, flags, cmd);
}

void *nd_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb,
			  const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq, family,
			   NLM_F_MULTI, cmd);
}

struct sk_buff *nd_genlmsg_new_atomic(void)
{
	return genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
}

void *nd_genlmsg_put_event(struct sk_buff *skb, const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, 0, 0, family, 0, cmd);
}

int nd_genlmsg_multicast_netns(const struct genl_family *family, struct net *net,
			       struct sk_buff *skb, unsigned int group)
{
	return genlmsg_multicast_netns(family, net, skb, 0, group, GFP_ATOMIC);
}

bool nd_genl_has_listeners(const struct genl_family *family, struct net *net,
			   unsigned int group)
{
	return genl_has_listeners(family, net, group);
}

void nd_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void nd_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int nd_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void nd_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

struct nlattr *nd_nla_nest_start(struct sk_buff *skb, int attrtype)
{
	return nla_nest_start(skb, attrtype);
}

void nd_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void nd_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

void *nd_nla_data(const struct nlattr *nla)
{
	return nla_data(nla);
}

int nd_nla_len(const struct nlattr *nla)
{
	return nla_len(nla);
}

unsigned char *nd_skb_network_header(const struct sk_buff *skb)
{
	return skb_network_header(skb);
}

bool nd_pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

u8 nd_skb_pkt_type(const struct sk_buff *skb)
{
	return skb->pkt_type;
}

unsigned int nd_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

void nd_skb_set_dev(struct sk_buff *skb, struct net_device *dev)
{
	skb->dev = dev;
}

struct net_device *nd_rt_dev(const struct rtable *rt)
{
	return rt->dst.dev;
}

const unsigned char *nd_dev_addr(const struct net_device *dev)
{
	return dev->dev_addr;
}

void nd_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

void nd_skb_dst_drop(struct sk_buff *skb)
{
	skb_dst_drop(skb);
}

void nd_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst)
{
	skb_dst_set(skb, dst);
}

/* What ip_vs_dr_xmit and ip_vs_send_or_cont do to a packet they send on unchanged. */
void nd_skb_prepare_forward(struct sk_buff *skb)
{
	skb->ignore_df = 1;
	nf_reset_ct(skb);
	skb_forward_csum(skb);
	skb_clear_tstamp(skb);
}

int nd_dst_output(struct net *net, struct sk_buff *skb)
{
	return dst_output(net, NULL, skb);
}

struct rtable *nd_ip_route_output_key(struct net *net, struct flowi4 *fl4)
{
	return ip_route_output_key(net, fl4);
}

void nd_ip_rt_put(struct rtable *rt)
{
	ip_rt_put(rt);
}

struct dst_entry *nd_rtable_dst(struct rtable *rt)
{
	return &rt->dst;
}

struct rtable *nd_dst_rtable(struct dst_entry *dst)
{
	return container_of(dst, struct rtable, dst);
}

bool nd_dst_valid(struct dst_entry *dst)
{
	return dst_check(dst, 0) != NULL;
}

bool nd_dst_hold_safe(struct dst_entry *dst)
{
	return dst_hold_safe(dst);
}

void nd_dst_hold(struct dst_entry *dst)
{
	dst_hold(dst);
}

bool nd_is_err(const void *ptr)
{
	return IS_ERR(ptr);
}

int nd_dev_hard_header(struct sk_buff *skb, struct net_device *dev, unsigned short type,
		       const void *daddr, const void *saddr, unsigned int len)
{
	return dev_hard_header(skb, dev, type, daddr, saddr, len);
}

int nd_dev_queue_xmit(struct sk_buff *skb)
{
	return dev_queue_xmit(skb);
}

void nd_rcu_read_lock(void)
{
	rcu_read_lock();
}

void nd_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void nd_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void nd_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

void nd_timer_setup(struct timer_list *timer, void (*callback)(struct timer_list *))
{
	timer_setup(timer, callback, 0);
}

u64 nd_jiffies64(void)
{
	return get_jiffies_64();
}

unsigned long nd_msecs_to_jiffies(unsigned int ms)
{
	return msecs_to_jiffies(ms);
}

u64 __percpu *nd_alloc_percpu_u64s(unsigned int count)
{
	return __alloc_percpu_gfp(count * sizeof(u64), __alignof__(u64), GFP_KERNEL);
}

void nd_this_cpu_add_u64(u64 __percpu *base, unsigned int index, u64 n)
{
	this_cpu_add(base[index], n);
}

u64 nd_per_cpu_u64(const u64 __percpu *base, unsigned int index, int cpu)
{
	return READ_ONCE(per_cpu_ptr(base, cpu)[index]);
}

/* The possible CPU after @cpu (-1 starts), or -1 past the last: for_each_possible_cpu. */
int nd_next_possible_cpu(int cpu)
{
	unsigned int next = cpumask_next(cpu, cpu_possible_mask);

	return next < nr_cpu_ids ? next : -1;
}
