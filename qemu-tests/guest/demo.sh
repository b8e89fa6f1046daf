# The demo: a cluster address with three servers weighted 1:2:3, 600 connections from the
# client, then the distribution and the Executor's counters.
. /nd/topology.sh
set -x
ns_exec lb ndadm vip add $VIP
ns_exec lb ndadm port add $VIP:80
ns_exec lb ndadm server add $VIP:80 $LAN.11 --weight 1
ns_exec lb ndadm server add $VIP:80 $LAN.12 --weight 2
ns_exec lb ndadm server add $VIP:80 $LAN.13 --weight 3
set +x
echo "demo: 600 connections from the client to $VIP:80"
ns_exec client ndtest connect --to $VIP:80 --count 600 --parallel 8
echo
ns_exec lb ndadm show --stats
ns_exec lb ndadm info
