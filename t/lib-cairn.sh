# lib-cairn.sh: helpers shared by cairn's test scripts (sourced after
# lib.sh). Each needs python3 where it says so.

# expect_code N cmd...: cmd exits with status N exactly.
expect_code () {
	expect_code_want_=$1
	shift
	"$@"
	expect_code_got_=$?
	test "$expect_code_got_" = "$expect_code_want_" && return 0
	echo "expect_code: wanted exit $expect_code_want_, got $expect_code_got_: $*" >&8
	return 1
}

# make_random FILE SIZE SEED: SIZE deterministic pseudo-random bytes.
make_random () {
	python3 -c '
import random, sys
sys.stdout.buffer.write(random.Random(int(sys.argv[2])).randbytes(int(sys.argv[1])))
' "$2" "$3" >"$1"
}

# json_get FILE KEY: a top-level number of a JSON object (fails otherwise).
json_get () {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
if not isinstance(v, int) or isinstance(v, bool):
    sys.exit("%s is not an integer: %r" % (sys.argv[2], v))
print(v)
' "$1" "$2"
}

# ptr_val POINTER KEY: the value of KEY in a pointer file.
ptr_val () {
	sed -n "s/^$2: //p" "$1"
}

# flip_byte FILE OFFSET: invert the bits of one byte.
flip_byte () {
	chmod u+w "$1" &&
	python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    off = int(sys.argv[2])
    f.seek(off)
    b = f.read(1)
    assert len(b) == 1, "offset past the end"
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
' "$1" "$2"
}

# no_wrong_bytes ORIG DIR: every file under DIR (if DIR exists at all)
# is identical to the file of the same name under ORIG.
no_wrong_bytes () {
	test -e "$2" || return 0
	(cd "$2" && find . -type f) >nwb.files &&
	while IFS= read -r f
	do
		cmp "$1/$f" "$2/$f" || return 1
	done <nwb.files
}

# size_of FILE: its size in bytes.
size_of () {
	wc -c <"$1" | tr -d " "
}

# same_tree EXPECT ACTUAL: same names, types, bytes, link targets, modes
# (a directory's own size is the file system's business, not compared).
same_tree () {
	diff -r --no-dereference "$1" "$2" &&
	(cd "$1" && find . \( -type d -printf "%y %M - %p\n" \) -o -printf "%y %M %s %l %p\n" |
		sort) >same-tree.expect &&
	(cd "$2" && find . \( -type d -printf "%y %M - %p\n" \) -o -printf "%y %M %s %l %p\n" |
		sort) >same-tree.actual &&
	test_cmp same-tree.expect same-tree.actual
}

# save_version N: add data, commit, keep a copy in ../saved/N and the
# commit id in ../saved/N.commit (for checking every version later).
save_version () {
	cairn add -q data &&
	git add -A && git commit -qm "v$1" &&
	mkdir -p ../saved && rm -rf ../saved/$1 && cp -r data ../saved/$1 &&
	git rev-parse HEAD >../saved/$1.commit
}

# idx_entries IDX: "oid type offset stored_len" for each entry of a pack index.
idx_entries () {
	python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", d, 12)[0]
for i in range(n):
    e = d[48 + 36 * i:48 + 36 * (i + 1)]
    print(e[:16].hex(), e[16], struct.unpack_from("<Q", e, 28)[0],
          struct.unpack_from("<I", e, 24)[0])
' "$1"
}

# chunk_pack DIR: the name of the pack in DIR holding the most chunks.
chunk_pack () {
	for i in "$1"/*.idx
	do
		echo "$(idx_entries "$i" | grep -c " 1 [0-9]* [0-9]*\$") $(basename "$i" .idx)"
	done | sort -n | tail -n 1 | cut -d" " -f2
}

# refused PATTERN CMD...: CMD, run in $JAIL/victim, fails with an error:
# line matching PATTERN, and nothing outside the victim's work tree
# changes: the script's own jail_state prints the same before and after.
refused () {
	refused_pat_=$1 &&
	shift &&
	jail_state >state.before &&
	(cd "$JAIL/victim" && test_must_fail "$@" >"$TRASH_DIRECTORY/out" 2>"$TRASH_DIRECTORY/err") &&
	test_grep "^error: .*$refused_pat_" err &&
	jail_state >state.after &&
	test_cmp state.before state.after
}

# capped CMD...: CMD with at most $CAPPED_KB KiB of address space (4 GB
# when unset): an allocation without bound fails instead of running the
# machine out of memory. Not under AddressSanitizer, which needs more for
# its shadow and refuses any allocation over 1 TiB by itself.
test_lazy_prereq ASAN 'ldd "$CAIRN_BUILD_DIR/cairn" | grep -q libasan'
capped () {
	if test_have_prereq ASAN
	then
		"$@"
	else
		(ulimit -v "${CAPPED_KB:-4000000}" && exec "$@")
	fi
}

# wait_stopped PID: until the process is stopped (SIGSTOP), for up to 30 s
wait_stopped () {
	n=0 &&
	until grep -q "^[0-9]* (.*) T " /proc/$1/stat
	do
		n=$((n + 1)) &&
		test $n -lt 600 && sleep 0.05 || { kill -9 $1; return 1; }
	done
}
