#!/bin/bash
# tandem-test: guest
# type = "hvm" through the toolstack: `tandem create` starts the PC with
# Debian's SeaBIOS (firmware = "seabios", the default); `tandem list`
# shows it; its console is COM1's pty, published by tandem-vmm as
# serial/0/tty, which `tandem console` picks by itself (and with -t
# serial) and where the banner and the firmware's messages are; `tandem
# run` relays the same to its stdout; `tandem shutdown` without -F says
# it has no PV control interface, with -F the VMM ends it (a poweroff);
# `tandem destroy` leaves nothing. With disk = [...], the NVMe namespace is
# what SeaBIOS boots (our boot sector's output through `tandem run`), no
# blkback device is written for it, and block-attach to the domain is
# refused. serial = "stdio" puts COM1 on `tandem run`'s own stdout (no
# pty, `tandem console` says there is none); serial = "file:PATH" in PATH.
# Needs /dev/kvm (real-mode firmware: plain KVM, or the test machine).
. "$(dirname "$0")/cli_lib.bash"
need_kvm
need_tandem
need_file "$TANDEM_BIN/tandem-vmm"
need_file "$TANDEM_BIN/xenstored"
need_file "$TANDEM_ROOT/$BUILD/firmware/bios-256k.bin"
DRIVER="python3 $(dirname "$0")/console_driver.py $((60 * $(emulation_factor)))"
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }

cat > "$WORK/pc.cfg" <<EOF
name = "pc"
type = "hvm"
memory = 64
vcpus = 2
EOF

"$TANDEM" create "$WORK/pc.cfg" 2> "$WORK/err" && pass create_hvm || fail create_hvm "$(cat "$WORK/err")"
id=$(domid_of pc)
uuid=$(xs read "/vm/$(xs read "/local/domain/$id/vm" 2>/dev/null | sed 's|^/vm/||')/uuid" 2>/dev/null)
"$TANDEM" list pc | grep -qE "^pc +$id +64 +2 +" && pass list_shows_hvm ||
    fail list_shows_hvm "$("$TANDEM" list 2>&1)"
[ "$(xs read "/vm/$uuid/image/ostype" 2>/dev/null)" = hvm ] && pass xenstore_ostype_hvm ||
    fail xenstore_ostype_hvm "$(xs read "/vm/$uuid/image/ostype" 2>&1)"
tty=$(xs read "/local/domain/$id/serial/0/tty" 2>/dev/null)
[[ $tty == /dev/pts/* ]] && pass serial_tty_in_xenstore || fail serial_tty_in_xenstore "'$tty'"
xs exists "/local/domain/$id/console" 2>/dev/null && fail no_pv_console "console/ written" ||
    pass no_pv_console

# the console by itself: COM1 (no PV console); the banner was written
# before anyone attached and waits in the pty
if $DRIVER expect:"SeaBIOS (version" send:'\x1d' exit:0 -- "$TANDEM" console pc \
        > "$WORK/out" 2> "$WORK/err"; then
    pass console_is_com1
else
    fail console_is_com1 "$(cat "$WORK/err")"
fi
if $DRIVER expect:"No bootable device" send:'\x1d' exit:0 -- "$TANDEM" console -t serial pc \
        > "$WORK/out" 2> "$WORK/err"; then
    pass console_t_serial
else
    fail console_t_serial "$(cat "$WORK/err")"
fi
"$TANDEM" console -t pv pc > /dev/null 2> "$WORK/err" < /dev/null; rc=$?
[ $rc != 0 ] && pass console_t_pv_none || fail console_t_pv_none "rc=$rc"
grep -q "firmware: Found 2 cpu(s)" "$TANDEM_RUNDIR/log/dom$id.log" && pass firmware_log_in_domain_log ||
    fail firmware_log_in_domain_log "$(tail -5 "$TANDEM_RUNDIR/log/dom$id.log" | tr '\n' '|')"

# no PV control interface: shutdown says so at once; -F has the VMM end it
"$TANDEM" shutdown pc > /dev/null 2> "$WORK/err"; rc=$?
[ $rc != 0 ] && grep -q "no PV control interface" "$WORK/err" && pass shutdown_without_pv_refused ||
    fail shutdown_without_pv_refused "rc=$rc $(cat "$WORK/err")"
"$TANDEM" destroy pc 2> "$WORK/err" && pass destroy_hvm || fail destroy_hvm "$(cat "$WORK/err")"
wait_for 100 bash -c "! '$TANDEM' domid pc" || fail destroy_hvm "still listed"
why=$(nothing_left "$id" "$uuid") && pass hvm_nothing_left || fail hvm_nothing_left "$why"

# `tandem run`: COM1 on its stdout until the domain is destroyed
start_bg run "$WORK/pc.cfg" 'name="pcrun"'
if wait_for 600 grep -q "No bootable device" "$WORK/run.out"; then
    pass run_shows_com1
else
    fail run_shows_com1 "$(tail -c 400 "$WORK/run.out" | tr '\n\r' '||') $(tail -3 "$WORK/run.err" | tr '\n' '|')"
fi
"$TANDEM" shutdown -F pcrun 2> "$WORK/err" || fail shutdown_F "$(cat "$WORK/err")"
wait_gone "$LAST_PID" 200 && pass shutdown_F_ends_run || fail shutdown_F_ends_run "tandem run still running"
wait "$LAST_PID"; rc=$?
[ $rc = 0 ] && pass run_status_poweroff || fail run_status_poweroff "rc=$rc $(tail -3 "$WORK/run.err" | tr '\n' '|')"
# disk = [...]: NVMe namespaces; SeaBIOS boots the first
. "$(dirname "$0")/pc_images.bash"
MSG="pc_toolstack: booted from disk = [...]"
if pc_bootsector_image "$WORK/boot.img" "$MSG" 2> "$WORK/err"; then
    cat > "$WORK/disk.cfg" <<EOF
name = "pcdisk"
type = "hvm"
memory = 32
disk = [ '$WORK/boot.img,raw,xvda,rw' ]
EOF
    start_bg run "$WORK/disk.cfg"
    if wait_for 600 grep -q "BOOT-OK" "$WORK/run.out" &&
       grep -qF "$MSG" "$WORK/run.out" && grep -qF "$(cat "$WORK/boot.img.expect")" "$WORK/run.out"; then
        pass hvm_disk_boots
    else
        fail hvm_disk_boots "$(tail -c 400 "$WORK/run.out" | tr '\n\r' '||') $(tail -3 "$WORK/run.err" | tr '\n' '|')"
    fi
    id=$(domid_of pcdisk)
    xs exists "/local/domain/0/backend/vbd/$id" 2>/dev/null && fail hvm_disk_no_blkback "a vbd backend was written" ||
        pass hvm_disk_no_blkback
    "$TANDEM" block-attach pcdisk "$WORK/boot.img,raw,xvdb,r" > /dev/null 2> "$WORK/err"; rc=$?
    [ $rc != 0 ] && grep -q 'type = "hvm"' "$WORK/err" && pass hvm_block_attach_refused ||
        fail hvm_block_attach_refused "rc=$rc $(cat "$WORK/err")"
    "$TANDEM" destroy pcdisk 2> "$WORK/err" || fail hvm_disk_destroy "$(cat "$WORK/err")"
    wait_gone "$LAST_PID" 200 || fail hvm_disk_destroy "tandem run still running"
    # The VMM's log: the domain's log file, or tandem run's stderr.
    cat "$TANDEM_RUNDIR/log/dom$id.log" "$WORK/run.err" 2>/dev/null | grep -q "nvme0: .* 0 errors" &&
        pass hvm_disk_nvme_counters_logged ||
        fail hvm_disk_nvme_counters_logged "$(tail -n 3 "$WORK/run.err" | tr '\n' '|')"

    # serial = "stdio": COM1 is the VMM's own stdout (tandem run's), no pty
    cat > "$WORK/stdio.cfg" <<EOF
name = "pcstdio"
type = "hvm"
memory = 32
serial = "stdio"
disk = [ '$WORK/boot.img,raw,xvda,r' ]
EOF
    start_bg stdio "$WORK/stdio.cfg"
    if wait_for 600 grep -q "BOOT-OK" "$WORK/stdio.out" && grep -qF "$MSG" "$WORK/stdio.out"; then
        pass hvm_serial_stdio_on_run_stdout
    else
        fail hvm_serial_stdio_on_run_stdout "$(tail -c 400 "$WORK/stdio.out" | tr '\n\r' '||') $(tail -3 "$WORK/stdio.err" | tr '\n' '|')"
    fi
    id=$(domid_of pcstdio)
    xs exists "/local/domain/$id/serial/0/tty" 2>/dev/null && fail hvm_serial_stdio_no_pty "serial/0/tty written" ||
        pass hvm_serial_stdio_no_pty
    "$TANDEM" console pcstdio > /dev/null 2> "$WORK/err" < /dev/null; rc=$?
    [ $rc != 0 ] && grep -q "no serial console" "$WORK/err" && pass hvm_serial_stdio_console_refused ||
        fail hvm_serial_stdio_console_refused "rc=$rc $(cat "$WORK/err")"
    "$TANDEM" destroy pcstdio 2> "$WORK/err" || fail hvm_serial_stdio_destroy "$(cat "$WORK/err")"
    wait_gone "$LAST_PID" 200 || fail hvm_serial_stdio_destroy "tandem run still running"

    # serial = "file:PATH" (tandem create): COM1's output in that file
    cat > "$WORK/file.cfg" <<EOF
name = "pcfile"
type = "hvm"
memory = 32
serial = "file:$WORK/com1.log"
disk = [ '$WORK/boot.img,raw,xvda,r' ]
EOF
    "$TANDEM" create "$WORK/file.cfg" 2> "$WORK/err" || fail hvm_serial_file_create "$(cat "$WORK/err")"
    if wait_for 600 grep -q "BOOT-OK" "$WORK/com1.log" && grep -qF "$MSG" "$WORK/com1.log" &&
       grep -qF "$(cat "$WORK/boot.img.expect")" "$WORK/com1.log"; then
        pass hvm_serial_file
    else
        fail hvm_serial_file "$(tail -c 400 "$WORK/com1.log" 2>&1 | tr '\n\r' '||')"
    fi
    "$TANDEM" destroy pcfile 2> "$WORK/err" || fail hvm_serial_file_destroy "$(cat "$WORK/err")"
else
    fail hvm_disk_boots "image: $(cat "$WORK/err")"
fi
finish
