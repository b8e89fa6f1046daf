/* SPDX-License-Identifier: GPL-2.0 */
/* Symbols for kernel functions that are static inline or macros. Each is a direct call. */
#ifndef ND_HELPERS_H
#define ND_HELPERS_H

#include <linux/types.h>

struct net;
struct sk_buff;
struct genl_info;
struct genl_family;
struct netlink_callback;
struct nlattr;
struct rtable;
struct flowi4;
struct dst_entry;
struct net_device;
struct timer_list;

void *nd_net_generic(const struct net *net, unsigned int id);
struct net *nd_genl_info_net(const struct genl_info *info);
struct net *nd_netlink_cb_net(const struct netlink_callback *cb);

struct sk_buff *nd_genlmsg_new(void);
void *nd_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
			   const struct genl_family *family, int flags, u8 cmd);
void *nd_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb,
			  const struct genl_family *family, u8 cmd);
struct sk_buff *nd_genlmsg_new_atomic(void);
void *nd_genlmsg_put_event(struct sk_buff *skb, const struct genl_family *family, u8 cmd);
int nd_genlmsg_multicast_netns(const struct genl_family *family, struct net *net,
			       struct sk_buff *skb, unsigned int group);
bool nd_genl_has_listeners(const struct genl_family *family, struct net *net,
			   unsigned int group);
void nd_genlmsg_end(struct sk_buff *skb, void *hdr);
void nd_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int nd_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
void nd_nlmsg_free(struct sk_buff *skb);
struct nlattr *nd_nla_nest_start(struct sk_buff *skb, int attrtype);
void nd_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void nd_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);
void *nd_nla_data(const struct nlattr *nla);
int nd_nla_len(const struct nlattr *nla);

unsigned char *nd_skb_network_header(const struct sk_buff *skb);
bool nd_pskb_may_pull(struct sk_buff *skb, unsigned int len);
u8 nd_skb_pkt_type(const struct sk_buff *skb);
unsigned int nd_skb_len(const struct sk_buff *skb);
void nd_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
struct net_device *nd_rt_dev(const struct rtable *rt);
const unsigned char *nd_dev_addr(const struct net_device *dev);
void nd_kfree_skb(struct sk_buff *skb);
void nd_skb_dst_drop(struct sk_buff *skb);
void nd_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst);
void nd_skb_prepare_forward(struct sk_buff *skb);
int nd_dst_output(struct net *net, struct sk_buff *skb);
struct rtable *nd_ip_route_output_key(struct net *net, struct flowi4 *fl4);
struct dst_entry *nd_rtable_dst(struct rtable *rt);
struct rtable *nd_dst_rtable(struct dst_entry *dst);
bool nd_dst_valid(struct dst_entry *dst);
bool nd_dst_hold_safe(struct dst_entry *dst);
void nd_dst_hold(struct dst_entry *dst);
void nd_ip_rt_put(struct rtable *rt);
bool nd_is_err(const void *ptr);
int nd_dev_hard_header(struct sk_buff *skb, struct net_device *dev, unsigned short type,
		       const void *daddr, const void *saddr, unsigned int len);
int nd_dev_queue_xmit(struct sk_buff *skb);

void nd_rcu_read_lock(void);
void nd_rcu_read_unlock(void);
void nd_spin_lock_bh(spinlock_t *lock);
void nd_spin_unlock_bh(spinlock_t *lock);
void nd_timer_setup(struct timer_list *timer, void (*callback)(struct timer_list *));
u64 nd_jiffies64(void);

u64 __percpu *nd_alloc_percpu_u64s(unsigned int count);
void nd_this_cpu_add_u64(u64 __percpu *base, unsigned int index, u64 n);
u64 nd_per_cpu_u64(const u64 __percpu *base, unsigned int index, int cpu);
int nd_next_possible_cpu(int cpu);
unsigned long nd_msecs_to_jiffies(unsigned int ms);

#endif
