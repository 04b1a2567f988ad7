#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# netclass takes most values from rtnetlink instead of sysfs: they must be exactly node_exporter's
# (which reads sysfs), for links in many states, and stay so after the kernel changes what the
# agent remembers between scrapes. In a network namespace of our own: veth pairs up and down (with
# and without carrier), an alias, a set MAC address, mtu/txqueuelen/group, a bridge port
# (promiscuous), ifb, vxlan, a tun (no address) and a renamed link; node_exporter and the agent
# both run inside it (ip netns exec mounts that namespace's sysfs) and every node_network_* line
# of collect[]=netclass must be equal. Then addresses are set to themselves (addr_assign_type
# becomes 3, the name and address unchanged), a link is renamed, an mtu changes and a peer comes
# up, and the scrapes must agree again.
set -u
cd "$(dirname "$0")/../.."
BIN=build/o11y-ebpf
NE=/usr/bin/prometheus-node-exporter
NS=o11ynct$$
TMP=$(mktemp -d)
NE_PID= AG_PID=
cleanup() {
	for p in $NE_PID $AG_PID; do kill "$p" 2>/dev/null; done
	for p in $NE_PID $AG_PID; do wait "$p" 2>/dev/null; done
	ip netns del $NS 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/agent.log" ] && tail -5 "$TMP/agent.log"; exit 1; }
in_ns() { ip netns exec $NS "$@"; }

[ -x "$BIN" ] || fail "$BIN not built"
[ -x "$NE" ] || fail "$NE not installed (make deps)"
ip netns add $NS || fail "ip netns add"
# no IPv6 autoconfiguration traffic: counters and states stay put between the two scrapes
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
in_ns ip link set lo up
in_ns ip link add va type veth peer name vb || fail "veth"
in_ns ip link set va alias 'uplink "quoted" \ back' mtu 1400 txqueuelen 77 group 5 up
in_ns ip link add vc type veth peer name vd
in_ns ip link set vc address 02:00:00:00:00:0c up
in_ns ip link add br0 type bridge
in_ns ip link set vd master br0 up
in_ns ip link set br0 up
in_ns ip link add ifb7 type ifb
in_ns ip link add vx0 type vxlan id 42 dstport 4789
in_ns ip tuntap add dev tun7 mode tun
in_ns ip link set tun7 up
in_ns ip link add ve type veth peer name vf
in_ns ip link set dev vf name renamed0 || fail "rename"
in_ns ip link set ve up

# ports are per namespace: any free one on the host is free in the new namespace too
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NE_PORT=$(free_port)
AG_PORT=$(free_port)
# ip netns exec execs the program: $! is its pid (a shell function in the background would not be)
ip netns exec $NS "$NE" --web.listen-address=127.0.0.1:$NE_PORT >"$TMP/ne.log" 2>&1 &
NE_PID=$!
ip netns exec $NS "$BIN" --http-capture=off --no-ebpf-host-metrics --log-level=debug \
	--web.listen-address=127.0.0.1:$AG_PORT >"$TMP/agent.log" 2>&1 &
AG_PID=$!
up() { for _ in $(seq 100); do in_ns curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
up "http://127.0.0.1:$NE_PORT/metrics" || fail "node_exporter did not come up"
up "http://127.0.0.1:$AG_PORT/metrics" || fail "agent did not come up"

# node_network_* lines of collect[]=netclass, sorted (node_exporter's order differs in places)
lines() {
	in_ns curl -sf "http://127.0.0.1:$1/metrics?collect%5B%5D=netclass" | grep '^node_network_' |
		sort >"$2" || fail "scrape $1"
}
compare() {
	lines $NE_PORT "$TMP/ne.$1"
	lines $AG_PORT "$TMP/ours.$1"
	[ "$(wc -l <"$TMP/ne.$1")" -gt 100 ] || fail "$1: node_exporter shows few netclass lines"
	diff "$TMP/ne.$1" "$TMP/ours.$1" >"$TMP/diff.$1" ||
		{ cat "$TMP/diff.$1"; fail "$1: netclass differs from node_exporter's"; }
	echo "$1: $(wc -l <"$TMP/ours.$1") netclass lines equal to node_exporter's"
}

compare initial
grep -q 'node_network_info{.*device="va".*ifalias="uplink \\"quoted\\" \\\\ back".*operstate="lowerlayerdown"' \
	"$TMP/ours.initial" || fail "va's alias or operstate not as expected"
grep -q '^node_network_address_assign_type{device="vc"} 3$' "$TMP/ours.initial" ||
	fail "vc's set address not seen"
grep -q '^node_network_name_assign_type{device="renamed0"} 4$' "$TMP/ours.initial" ||
	fail "renamed0's name_assign_type not 4"
grep -q 'netclass: values rtnetlink has from rtnetlink' "$TMP/agent.log" ||
	fail "the agent did not take netclass values from rtnetlink"
grep -q 'netclass: all values from sysfs' "$TMP/agent.log" &&
	fail "the agent fell back to sysfs in its own namespace"

# the agent has remembered addr_assign_type, dev_id, name_assign_type by now; change them
for _ in 1 2 3; do lines $AG_PORT "$TMP/warm"; done
for d in va ve; do
	in_ns ip link set $d address "$(in_ns cat /sys/class/net/$d/address)"
done
in_ns ip link set dev renamed0 name renamed1 || fail "rename"
in_ns ip link set va mtu 1300
in_ns ip link set vb up
sleep 0.2
compare changed
grep -q '^node_network_address_assign_type{device="ve"} 3$' "$TMP/ours.changed" ||
	fail "ve's address set to itself: addr_assign_type not 3"
grep -q '^node_network_carrier{device="va"} 1$' "$TMP/ours.changed" || fail "va has no carrier"
grep -q '^node_network_mtu_bytes{device="va"} 1300$' "$TMP/ours.changed" || fail "va's mtu"
grep -q 'device="renamed1"' "$TMP/ours.changed" || fail "renamed1 missing"
echo "PASS: netclass from rtnetlink equals node_exporter's sysfs values"
