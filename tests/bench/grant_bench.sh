#!/bin/bash
# tandem-bench: guest (boots guests; in the test machine where the host has no /dev/kvm)
# Grant benchmark (run by tests/bench/run.sh): a real guest (app=granttest)
# grants a page; drivers/grant_check --bench maps and unmaps it
# GRANT_BENCH_N times through tdm_gnttab, and measures in the same run the
# raw costs: the two compare-and-swaps alone, and mmap+munmap of one memfd
# page (the cost of mapping each grant afresh). Prints a markdown table.
set -u
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
N=${GRANT_BENCH_N:-200000}
out=$(GRANT_BENCH=$N bash "$ROOT/tests/integration/grant_check.sh")
if ! grep -q "^PASS: grant_bench_map_unmap" <<< "$out"; then
    echo "grant bench failed: $out" >&2
    exit 1
fi
val() { sed -n "s/^$1=//p" <<< "$out"; }
echo "## Grant map + unmap ($N pairs of one page, dom0 through tdm_gnttab)"
echo
echo "| operation | ns per page |"
echo "|---|---|"
echo "| tdm_gnttab_map + tdm_gnttab_unmap (check entry, CAS GTF_reading/writing, pin; unpin, clear) + one write | $(val grant_map_unmap_ns) |"
echo "| raw: the two compare-and-swaps alone on host memory | $(val raw_cas_pair_ns) |"
echo "| raw: mmap + touch + munmap of one memfd page (mapping each grant afresh) | $(val raw_mmap_munmap_ns) |"
