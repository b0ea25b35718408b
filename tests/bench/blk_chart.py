#!/usr/bin/env python3
"""Bar chart (SVG, no plotting library) of the block benchmark: for each
case the guest's figure as a percentage of the host's (IOPS for 4k random,
MB/s for 128k sequential, host p50 / guest p50 latency for qd=1), with the
issue's target drawn as a mark. Usage: blk_chart.py RESULTS.tsv OUT.svg

RESULTS.tsv columns (tab-separated, header line first): case metric host
guest target, where metric is 'iops', 'mbps' or 'p50' and target the
minimum ratio (0.9, 0.95, 0.5 for latency: guest p50 <= 2x host)."""
import sys


def ratio(metric, host, guest):
    if host <= 0 or guest <= 0:
        return 0.0
    # for latency, smaller is better: plot host/guest so that up is better
    return host / guest if metric == 'p50' else guest / host


def bar_svg(rows):
    w, h, left, top, bottom = 760, 360, 70, 40, 90
    plot_h = h - top - bottom
    n = len(rows)
    slot = (w - left - 20) / max(n, 1)
    top_pct = max([125] + [int(ratio(r[1], r[2], r[3]) * 100) + 15 for r in rows])
    y = lambda pct: top + plot_h * (1 - pct / top_pct)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15">'
           'Tandem PV block: guest (blkfront + tandem-blkback) as % of host fio</text>']
    for pct in range(0, top_pct + 1, 25):
        out.append(f'<line x1="{left}" x2="{w - 20}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(pct) + 4:.1f}" text-anchor="end">{pct}%</text>')
    for i, (case, metric, host, guest, target) in enumerate(rows):
        r = ratio(metric, host, guest) * 100
        x = left + i * slot + slot * 0.2
        bw = slot * 0.6
        ok = r >= target * 100
        out.append(f'<rect x="{x:.1f}" y="{y(r):.1f}" width="{bw:.1f}" '
                   f'height="{y(0) - y(r):.1f}" fill="{"#3a7" if ok else "#d63"}"/>')
        out.append(f'<text x="{x + bw / 2:.1f}" y="{y(r) - 5:.1f}" '
                   f'text-anchor="middle">{r:.0f}%</text>')
        ty = y(target * 100)
        out.append(f'<line x1="{x - 4:.1f}" x2="{x + bw + 4:.1f}" y1="{ty:.1f}" y2="{ty:.1f}" '
                   'stroke="black" stroke-dasharray="4,3" stroke-width="2"/>')
        label = {'iops': 'IOPS', 'mbps': 'MB/s', 'p50': 'p50 lat.'}[metric]
        out.append(f'<text x="{x + bw / 2:.1f}" y="{y(0) + 18:.1f}" '
                   f'text-anchor="middle">{case}</text>')
        out.append(f'<text x="{x + bw / 2:.1f}" y="{y(0) + 34:.1f}" text-anchor="middle" '
                   f'fill="#555">{label}</text>')
    out.append(f'<text x="{left}" y="{h - 26}" fill="#555">dashed: target '
               '(90% IOPS at qd=32, 95% MB/s at 128k, p50 at most 2x host at qd=1); '
               'green = met</text>')
    out.append(f'<text x="{left}" y="{h - 10}" fill="#555">latency bar = host p50 / guest p50 '
               '(up is better for every bar)</text>')
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rows = []
    with open(sys.argv[1]) as f:
        for n, line in enumerate(f):
            if n == 0 or not line.strip():
                continue
            case, metric, host, guest, target = line.rstrip('\n').split('\t')
            if metric not in ('iops', 'mbps', 'p50'):
                sys.exit(f'{sys.argv[1]}:{n + 1}: unknown metric {metric!r}')
            rows.append((case, metric, float(host), float(guest), float(target)))
    with open(sys.argv[2], 'w') as f:
        f.write(bar_svg(rows))


if __name__ == '__main__':
    main()
