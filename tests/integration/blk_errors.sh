#!/bin/bash
# Disk errors that `tandem run` must report before any guest starts, with
# the config file and line, status 2, and no VMM, no domain, no daemon:
# a missing file, a file too small, a directory, a bad vdev, a duplicate
# vdev, an unsupported format, and a read-only file given access=rw.
. "$(dirname "$0")/blk_lib.bash"
need_tandem
need_file "$KERNEL"

new_disk "$WORK/ok.img" 1
truncate -s 1000 "$WORK/small.img"
cp "$WORK/ok.img" "$WORK/rofile.img"
chmod 0444 "$WORK/rofile.img"

# check NAME DISKITEM REGEX
check() {
    local name=$1 item=$2 re=$3
    write_cfg "$WORK/$name.cfg" "$name" "app=hello" "disk = [ $item ]"
    timeout 30 "$TANDEM" run "$WORK/$name.cfg" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null
    local rc=$?
    if [ $rc = 2 ] && grep -qE -- "$re" "$WORK/$name.err" && ! grep -q "tandem guest" "$WORK/$name.out"; then
        pass "$name"
    else
        fail "$name" "status $rc: $(tr '\n' '|' < "$WORK/$name.err")"
    fi
}

check missing_file "'$WORK/nope.img,raw,xvda,rw'" \
    "^tandem: .*missing_file\.cfg:5: disk xvda: '$WORK/nope.img': No such file or directory\$"
check too_small "'$WORK/small.img,raw,xvda,rw'" \
    "^tandem: .*too_small\.cfg:5: disk xvda: '$WORK/small.img' is too small: 1000 bytes \(a disk needs at least 4096\)\$"
check directory "'target=$WORK, vdev=xvda'" "disk xvda: '$WORK' is not a regular file or block device"
check bad_vdev "'$WORK/ok.img,raw,floppy,rw'" "vdev 'floppy' is not a virtual device name"
check duplicate_vdev "'$WORK/ok.img,raw,xvda,rw', '$WORK/ok.img,raw,51712,r'" "vdev '51712' is already used"
check qcow2 "'$WORK/ok.img,qcow2,xvda,rw'" "format 'qcow2' is not supported \(only raw\)"
check bad_access "'$WORK/ok.img,raw,xvda,rx'" "access 'rx' must be r, ro, w or rw"
if [ "$(id -u)" != 0 ]; then
    check readonly_file_rw "'$WORK/rofile.img,raw,xvda,rw'" "disk xvda: '$WORK/rofile.img': Permission denied \(access=rw\)"
fi
[ ! -e "$BLKBACK_PIDF" ] && pass no_daemon_started_for_bad_disks || fail no_daemon_started_for_bad_disks "$BLKBACK_PIDF exists"
[ -z "$(ls "$TANDEM_RUNDIR"/dom*.ctl 2>/dev/null)" ] && pass no_domain_started || fail no_domain_started "a control socket exists"
finish
