#!/bin/bash
# tandem-test: guest
# cli_concurrent_many.sh with real guests (tandem-vmm and the guest
# kernel): 4 created at once, half with a disk, the others given one by
# block-attach at once, all destroyed at once; nothing is left. Needs
# /dev/kvm (or the nested test machine, tests/vm/run).
CONCURRENT_REAL=1 CONCURRENT_N=${CONCURRENT_N:-4} exec bash "$(dirname "$0")/cli_concurrent_many.sh"
