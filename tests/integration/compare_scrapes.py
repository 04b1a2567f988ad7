#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Compares a node_exporter scrape with an o11y-ebpf scrape taken right after it.

usage: compare_scrapes.py NODE_EXPORTER.txt AGENT.txt

Every metric family node_exporter emits (except go_*, promhttp_* and process_*, which describe
the exporter process itself) must be in the agent's scrape with the same type, the same label
names and the same series (label values); constants must be equal, counters and slowly moving
gauges within a small tolerance. Prints every difference; exits 1 if there is any.
"""
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')

# Equal in both scrapes: sizes, limits, identities.
CONSTANT = {
    'node_boot_time_seconds', 'node_memory_MemTotal_bytes', 'node_memory_SwapTotal_bytes',
    'node_memory_HugePages_Total', 'node_memory_Hugepagesize_bytes',
    'node_memory_VmallocTotal_bytes', 'node_memory_CommitLimit_bytes',
    'node_memory_DirectMap1G_bytes', 'node_uname_info', 'node_os_info', 'node_os_version',
    'node_filesystem_size_bytes', 'node_filesystem_files', 'node_filesystem_readonly',
    'node_filesystem_device_error', 'node_network_mtu_bytes', 'node_network_info',
    'node_network_iface_id', 'node_network_iface_link', 'node_network_flags',
    'node_network_speed_bytes', 'node_network_protocol_type', 'node_network_up',
    'node_network_carrier', 'node_network_transmit_queue_length', 'node_network_device_id',
    'node_network_address_assign_type', 'node_network_name_assign_type',
    'node_network_carrier_changes_total', 'node_disk_info', 'node_filefd_maximum',
    'node_entropy_pool_size_bits', 'node_nf_conntrack_entries_limit',
    'node_time_clocksource_available_info', 'node_time_clocksource_current_info',
    'node_time_zone_offset_seconds', 'node_timex_tick_seconds', 'node_timex_status',
    'node_selinux_enabled', 'node_textfile_scrape_error', 'node_netstat_Ip_Forwarding',
}
# Move too fast or mean something per process: compare presence only.
VOLATILE_PREFIX = ('node_scrape_collector_duration_seconds', 'node_time_seconds',
                   'node_timex_offset_seconds', 'node_timex_frequency_adjustment_ratio',
                   'node_load', 'node_procs_', 'node_memory_', 'node_sockstat_',
                   'node_filefd_allocated', 'node_nf_conntrack_entries',
                   'node_netstat_Tcp_CurrEstab', 'node_udp_queues', 'node_entropy_available',
                   'node_disk_io_now', 'node_timex_maxerror', 'node_timex_estimated_error',
                   'node_filesystem_avail_bytes', 'node_filesystem_free_bytes',
                   'node_filesystem_files_free', 'node_exporter_build_info')
EXPORTER_OWN = ('go_', 'promhttp_', 'process_')


def parse(path):
    """-> {family: {'type': t, 'series': {labels(tuple): value}}}"""
    fams = {}
    types = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('# TYPE '):
                _, _, name, typ = line.split(None, 3)
                types[name] = typ
                fams.setdefault(name, {'type': typ, 'series': {}})
                continue
            if not line or line.startswith('#'):
                continue
            m = SAMPLE.match(line)
            if not m:
                raise SystemExit(f'{path}: cannot parse line: {line!r}')
            name, labels, value = m.group(1), m.group(3) or '', float(m.group(4))
            lbls = tuple(sorted(LABEL.findall(labels)))
            fam = fams.setdefault(name, {'type': types.get(name, 'untyped'), 'series': {}})
            fam['series'][lbls] = value
    return fams


def close(a, b, rel, absolute):
    return abs(a - b) <= max(absolute, rel * max(abs(a), abs(b)))


def main():
    ne, ours = parse(sys.argv[1]), parse(sys.argv[2])
    problems, missing = [], []
    ours_collectors = {dict(k).get('collector') for k in
                       ours.get('node_scrape_collector_success', {'series': {}})['series']}
    not_implemented = []
    for name, fam in sorted(ne.items()):
        if name.startswith(EXPORTER_OWN):
            continue
        if name not in ours:
            missing.append(name)
            continue
        mine = ours[name]
        if mine['type'] != fam['type']:
            problems.append(f'{name}: type {mine["type"]}, node_exporter {fam["type"]}')
        ne_lnames = {tuple(k for k, _ in s) for s in fam['series']}
        my_lnames = {tuple(k for k, _ in s) for s in mine['series']}
        if ne_lnames != my_lnames:
            problems.append(f'{name}: label names {sorted(my_lnames)}, node_exporter '
                            f'{sorted(ne_lnames)}')
            continue
        for lbls, v in sorted(fam['series'].items()):
            if name.startswith('node_scrape_collector_'):
                coll = dict(lbls)['collector']
                if coll not in ours_collectors:
                    if name.endswith('_success'):
                        not_implemented.append(f'{coll}(success={v:g})')
                    continue
            if name == 'node_exporter_build_info':
                continue
            if lbls not in mine['series']:
                problems.append(f'{name}{dict(lbls)}: series missing')
                continue
            mv = mine['series'][lbls]
            if name in CONSTANT:
                if mv != v:
                    problems.append(f'{name}{dict(lbls)}: {mv!r}, node_exporter {v!r}')
            elif name == 'node_scrape_collector_success':
                if mv != v:
                    problems.append(f'{name}{dict(lbls)}: {mv:g}, node_exporter {v:g}')
            elif name.startswith(VOLATILE_PREFIX):
                pass
            elif name.endswith(('Octets', 'Segs')):
                # the scrapes themselves travel over loopback: allow a few scrapes' worth
                if not close(mv, v, 0.02, 1e6 if name.endswith('Octets') else 2000):
                    problems.append(f'{name}{dict(lbls)}: {mv!r}, node_exporter {v!r}')
            elif fam['type'] == 'counter' or name.startswith(('node_netstat_', 'node_vmstat_')):
                # both scrapes are taken within a fraction of a second of each other
                if not close(mv, v, 0.02, 100):
                    problems.append(f'{name}{dict(lbls)}: {mv!r}, node_exporter {v!r}')
            elif not close(mv, v, 0.05, 1):
                problems.append(f'{name}{dict(lbls)}: {mv!r}, node_exporter {v!r}')
    extra = sorted(n for n in ours if n.startswith('node_') and n not in ne and
                   not n.endswith(('_bucket', '_count', '_sum')))
    print(f'node_exporter families compared: '
          f'{sum(1 for n in ne if not n.startswith(EXPORTER_OWN))}, missing in ours: '
          f'{len(missing)}, other differences: {len(problems)}')
    if not_implemented:
        print('node_exporter collectors without a counterpart here (no families on this host '
              'unless listed as missing): ' + ' '.join(sorted(not_implemented)))
    if extra:
        print('families only we emit: ' + ' '.join(extra))
    for m in missing:
        print(f'MISSING {m} ({ne[m]["type"]})')
    for p in problems:
        print(f'DIFF {p}')
    return 1 if missing or problems else 0


if __name__ == '__main__':
    sys.exit(main())
