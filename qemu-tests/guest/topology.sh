# The cluster's network, shared by the suite and the demo: one LAN (a bridge in the root
# namespace) with a client, a dispatcher, three servers and a second dispatcher, each in its
# own network namespace. Servers hold the cluster address on lo and never answer ARP for it.
# A second LAN joins the first dispatcher and the servers only: the paper's two-network
# configuration, where the dispatcher reaches the servers over a network of their own and the
# servers answer clients over the first.

LAN=10.0.0
BACK_LAN=10.1.0
VIP=$LAN.100
VIP2=$LAN.200
CLIENT=$LAN.2
LB=$LAN.1
LB2=$LAN.3
SERVERS="$LAN.11 $LAN.12 $LAN.13"

ns_exec() {
    ns=$1
    shift
    /sbin/ip netns exec "$ns" "$@"
}

# attach NS ADDR: a namespace with one veth (its eth0) into the first LAN.
attach() {
    ns=$1
    addr=$2
    /sbin/ip netns add "$ns"
    /sbin/ip link add "v-$ns" type veth peer name eth0 netns "$ns"
    /sbin/ip link set "v-$ns" master br0 up
    ns_exec "$ns" /sbin/ip addr add "$addr/24" dev eth0
    ns_exec "$ns" /sbin/ip link set eth0 up
    ns_exec "$ns" /sbin/ip link set lo up
}

# attach_back NS ADDR: a second veth (its eth1) from an existing namespace into the second LAN.
attach_back() {
    ns=$1
    addr=$2
    /sbin/ip link add "w-$ns" type veth peer name eth1 netns "$ns"
    /sbin/ip link set "w-$ns" master br1 up
    ns_exec "$ns" /sbin/ip addr add "$addr/24" dev eth1
    ns_exec "$ns" /sbin/ip link set eth1 up
}

cluster_up() {
    /sbin/ip link add br0 type bridge
    /sbin/ip link set br0 up
    /sbin/ip link add br1 type bridge
    /sbin/ip link set br1 up
    attach client $CLIENT
    attach lb $LB
    attach lb2 $LB2
    ns_exec lb /sbin/ip addr add $VIP/32 dev eth0
    attach_back lb $BACK_LAN.1
    ns_exec lb2 /sbin/ip addr add $VIP2/32 dev eth0
    i=1
    for addr in $SERVERS; do
        attach "srv$i" "$addr"
        ns_exec "srv$i" /sbin/ip addr add $VIP/32 dev lo
        ns_exec "srv$i" /sbin/ip addr add $VIP2/32 dev lo
        ns_exec "srv$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1
        ns_exec "srv$i" sysctl -qw net.ipv4.conf.all.arp_announce=2
        ns_exec "srv$i" sysctl -qw net.ipv4.conf.eth0.arp_ignore=1
        ns_exec "srv$i" sysctl -qw net.ipv4.conf.eth0.arp_announce=2
        # Requests arrive on eth1 from clients routed through eth0: not a spoofing sign here.
        attach_back "srv$i" "$BACK_LAN.1$i"
        ns_exec "srv$i" sysctl -qw net.ipv4.conf.all.rp_filter=0
        ns_exec "srv$i" sysctl -qw net.ipv4.conf.eth1.rp_filter=0
        ns_exec "srv$i" ndtest serve --listen 0.0.0.0:80 --name "srv$i" >/dev/null &
        i=$((i + 1))
    done
    # A client that reconnects from recently used ports must not wait for TIME_WAIT.
    ns_exec client sysctl -qw net.ipv4.tcp_tw_reuse=1
    insmod /nd/nd.ko || echo "nd-guest: insmod failed"
    for i in 1 2 3; do
        ns_exec client ndtest wait-port --to "$LAN.1$i:80" --timeout-ms 20000 ||
            echo "nd-guest: server srv$i did not come up"
    done
}
