# --- helpers (payloads/src/init_helpers.sh) ---

# oxitest_param NAME [DEFAULT]: the value of the last oxitest.NAME=VALUE on the kernel
# command line, else DEFAULT.
oxitest_param() {
    local arg value="$2"
    set -f
    for arg in $(cat /proc/cmdline); do
        case "$arg" in
            "oxitest.$1="*) value="${arg#*=}" ;;
        esac
    done
    set +f
    printf '%s\n' "$value"
}

# oxitest_run NAME COMMAND [ARGS...]: runs COMMAND, prints each line of its output (stdout and
# stderr) as "OXITEST NAME: LINE", then "OXITEST NAME exit=STATUS"; returns STATUS.
oxitest_run() {
    local name="$1" status line
    shift
    "$@" > /tmp/oxitest.out 2>&1
    status=$?
    while IFS= read -r line || [ -n "$line" ]; do
        printf 'OXITEST %s: %s\n' "$name" "$line"
    done < /tmp/oxitest.out
    printf 'OXITEST %s exit=%s\n' "$name" "$status"
    return $status
}

# oxitest_within SECONDS COMMAND [ARGS...]: runs COMMAND and returns its status, or returns
# 124 after SECONDS if it is still running. Unlike `timeout`, this also bounds a command stuck
# in the kernel where no signal reaches it (such as a firmware call the kernel retries
# forever); the stuck process is left behind and the script goes on.
oxitest_within() {
    local seconds="$1" pid waited=0
    shift
    "$@" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "$seconds" ]; then
            echo "still running after $seconds s"
            return 124
        fi
        sleep 1
        waited=$((waited + 1))
    done
    wait "$pid"
}

# oxitest_msglog LINES: the first LINES lines of the firmware's OPAL message log.
oxitest_msglog() {
    [ -r /sys/firmware/opal/msglog ] || { echo "absent"; return 1; }
    tr -d '\000' < /sys/firmware/opal/msglog | head -n "$1"
}

# NVRAM: Linux on powernv exposes the firmware's NVRAM (OPAL_READ_NVRAM/OPAL_WRITE_NVRAM) as
# the character device /dev/nvram (CONFIG_NVRAM), present only when the firmware describes an
# NVRAM (/ibm,opal/nvram). Its content is CHRP partitions: a 16-byte header (signature,
# checksum, length in 16-byte blocks big-endian, 12-byte name) then data. Our marker is a
# NUL-terminated "oxitest=MARKER" string appended to the strings in the "common" partition.

# oxitest_nvram_marker: the marker for this boot (oxitest.nvram-marker=, default "oxiboot").
oxitest_nvram_marker() {
    oxitest_param nvram-marker oxiboot
}

# oxitest_nvram_size: the size of /dev/nvram in bytes, or "absent".
oxitest_nvram_size() {
    [ -c /dev/nvram ] || { echo "absent"; return 1; }
    wc -c < /dev/nvram
}

# oxitest_nvram_partitions: one line per partition: HEADER_OFFSET SIGNATURE LENGTH NAME
# (decimal; LENGTH includes the header).
oxitest_nvram_partitions() {
    local size offset header length name
    [ -c /dev/nvram ] || { echo "absent"; return 1; }
    size=$(wc -c < /dev/nvram) || return 1
    offset=0
    while [ "$offset" -lt "$size" ]; do
        header=$(od -A n -t u1 -j "$offset" -N 4 /dev/nvram) || return 1
        set -- $header
        [ $# -eq 4 ] || { echo "short header at $offset"; return 1; }
        length=$((($3 * 256 + $4) * 16))
        [ "$length" -ge 16 ] || { echo "bad partition length at $offset"; return 1; }
        name=$(dd if=/dev/nvram bs=1 skip=$((offset + 4)) count=12 2>/dev/null | tr -d '\000')
        echo "$offset $1 $length $name"
        offset=$((offset + length))
    done
}

# oxitest_nvram_find NAME: "DATA_OFFSET DATA_LENGTH" of the first partition called NAME.
oxitest_nvram_find() {
    oxitest_nvram_partitions | while read -r offset signature length name; do
        if [ "$name" = "$1" ] && [ "$length" -gt 16 ] 2>/dev/null; then
            echo "$((offset + 16)) $((length - 16))"
            break
        fi
    done
}

# oxitest_nvram_strings_end OFFSET LENGTH: offset of the empty string that ends the
# NUL-terminated strings stored from OFFSET (LENGTH bytes, a multiple of 16).
oxitest_nvram_strings_end() {
    # Count bytes here: busybox awk reads od's zero-padded addresses as octal.
    dd if=/dev/nvram bs=16 skip=$(($1 / 16)) count=$(($2 / 16)) 2>/dev/null | od -A n -t u1 -v |
        awk -v base="$1" 'BEGIN { pos = 0 } {
            for (i = 1; i <= NF; i++) {
                if ($i == 0 && (pos == 0 || prev == 0)) { print base + pos; exit }
                prev = $i
                pos++
            }
        }'
}

# oxitest_nvram_write MARKER: appends "oxitest=MARKER" to the common partition, reads it back.
oxitest_nvram_write() {
    local place offset length end size
    [ -c /dev/nvram ] || { echo "no /dev/nvram"; return 1; }
    place=$(oxitest_nvram_find common)
    [ -n "$place" ] || { echo "no NVRAM partition named common"; return 1; }
    offset=${place% *}
    length=${place#* }
    end=$(oxitest_nvram_strings_end "$offset" "$length")
    [ -n "$end" ] || { echo "the common partition has no free space"; return 1; }
    printf 'oxitest=%s' "$1" > /tmp/oxitest.entry
    dd if=/dev/zero bs=1 count=2 2>/dev/null >> /tmp/oxitest.entry
    size=$(wc -c < /tmp/oxitest.entry)
    [ $((end + size)) -le $((offset + length)) ] || { echo "no room for the marker"; return 1; }
    dd if=/tmp/oxitest.entry of=/dev/nvram bs=1 seek="$end" conv=notrunc 2>/dev/null ||
        { echo "writing /dev/nvram failed"; return 1; }
    echo "wrote oxitest=$1 at $end"
    oxitest_nvram_check "$1"
}

# oxitest_nvram_check MARKER: lists the common partition's strings ("common: STRING") and
# succeeds if "oxitest=MARKER" is among them ("found ..."; else "missing ...").
oxitest_nvram_check() {
    local place offset length
    [ -c /dev/nvram ] || { echo "no /dev/nvram"; return 1; }
    place=$(oxitest_nvram_find common)
    [ -n "$place" ] || { echo "no NVRAM partition named common"; return 1; }
    offset=${place% *}
    length=${place#* }
    dd if=/dev/nvram bs=16 skip=$((offset / 16)) count=$((length / 16)) 2>/dev/null |
        tr '\000' '\n' | grep -v '^$' | head -n 64 > /tmp/oxitest.common
    sed 's/^/common: /' /tmp/oxitest.common
    if grep -qxF "oxitest=$1" /tmp/oxitest.common; then
        echo "found oxitest=$1"
    else
        echo "missing oxitest=$1"
        return 1
    fi
}

# --- checks ---

# Makes every online CPU receive at least one inter-processor interrupt: a short task is
# started on each CPU (a wake-up of an idle CPU is an IPI), once from CPU 0 and once from
# CPU 1, so the CPU running the loop is woken too. Used before the second /proc/interrupts
# snapshot, so the IPI counts rise on every CPU.
oxitest_wake_every_cpu() {
    last=$(( $(grep -c ^processor /proc/cpuinfo) - 1 ))
    for from in 0 1; do
        [ "$from" -le "$last" ] || continue
        taskset -c "$from" sh -c "for c in \$(seq 0 $last); do taskset -c \$c true; done"
    done
}

# oxitest_dt_string NAME: a string property of the device tree's root node, or "absent".
oxitest_dt_string() {
    [ -r "/proc/device-tree/$1" ] || { echo "absent"; return 1; }
    tr -d '\000' < "/proc/device-tree/$1"
    echo
}

# oxitest_isolation_probe ADDRESS: reads 8 bytes at a physical address through /dev/mem (a
# partitioned-mode test gives one just past the LPAR's memory). Inside an LPAR the access
# must fail: the process dies (signal) or the read is refused. Prints what happened; succeeds
# only when the read did not return data.
oxitest_isolation_probe() {
    [ -n "$1" ] || { echo "no address (oxitest.probe=)"; return 1; }
    echo "reading 8 bytes at physical $1 through /dev/mem"
    ( devmem "$1" 64 ) > /tmp/oxitest.probe 2>&1
    status=$?
    echo "devmem exit status $status, output: $(cat /tmp/oxitest.probe)"
    if [ "$status" -eq 0 ]; then
        echo "ISOLATION BROKEN: the read returned data"
        return 1
    fi
    echo "isolation holds: the read failed"
}
