#!/bin/sh

test_description='push, fetch and pull when things go wrong

No remote, an unknown remote, a directory that is not a cairn remote, a
remote that cannot be written, damaged packs and indexes on the remote,
and a push or a pull killed with SIGKILL. Every failure is an error:
line and a non-zero exit; nothing wrong ever reaches the work tree; a
re-run completes. (Two pushes at the same time: t0096.)'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

ITER=${CAIRN_TEST_CRASH_ITER:-8}
GOOD=$TRASH_DIRECTORY/good-remote

# damage_every_object PACK: flip one byte in the middle of the stored
# bytes of every object its index lists (so whatever is read, whole pack
# or ranges, something is corrupt).
damage_every_object () {
	chmod u+w "$1" &&
	python3 -c '
import struct, sys
pack = sys.argv[1]
idx = open(pack[:-5] + ".idx", "rb").read()
count = struct.unpack("<I", idx[12:16])[0]
with open(pack, "r+b") as f:
    for i in range(count):
        e = idx[48 + 36 * i:48 + 36 * (i + 1)]
        stored = struct.unpack("<I", e[24:28])[0]
        off = struct.unpack("<Q", e[28:36])[0]
        pos = off + 28 + stored // 2
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ 0xff]))
' "$1"
}

# copy_remote NAME: a writable copy of the good remote, at $TRASH/NAME.
copy_remote () {
	rm -rf "$TRASH_DIRECTORY/$1" &&
	cp -R "$GOOD" "$TRASH_DIRECTORY/$1" &&
	chmod -R u+w "$TRASH_DIRECTORY/$1"
}

# largest_remote_pack DIR
largest_remote_pack () {
	ls -S "$1"/packs/*.pack | head -n 1
}

# fresh_clone NAME REMOTE-DIR: a git clone of A whose default remote is
# REMOTE-DIR (added --local as "bad").
fresh_clone () {
	rm -rf "$1" &&
	git clone -q A "$1" &&
	(cd "$1" && cairn remote add --local -d bad "$2")
}

# random_delay MAX: a sleep argument from 0 to MAX seconds
random_delay () {
	awk -v s="$(od -An -N4 -tu4 /dev/urandom)" -v m="$1" 'BEGIN { srand(s); printf "%.3f\n", rand() * m }'
}

test_expect_success 'setup: A with two datasets, pushed to a good remote' '
	"$TEST_DIRECTORY/gen-dataset" --out gen --scale 0.001 -q model images &&
	git init -q A &&
	(cd A && cairn init >/dev/null) &&
	mkdir A/data &&
	cp -R gen/model gen/images A/data/ &&
	make_random A/small.bin 100000 5 &&
	cp -R A/data orig &&
	cp A/small.bin orig/small.bin &&
	(
		cd A &&
		cairn add -q data/model data/images small.bin &&
		cairn remote add origin "$GOOD" &&
		git add -A &&
		git commit -q -m v1 &&
		cairn push -q
	) &&
	test_path_is_file "$GOOD/cairn-remote" &&
	git clone -q A ok &&
	(cd ok && cairn pull -q) &&
	same_tree orig/model ok/data/model &&
	same_tree orig/images ok/data/images &&
	cmp orig/small.bin ok/small.bin
'

test_expect_success 'push, fetch and pull with no remote configured: a clear error' '
	git init -q N &&
	(
		cd N &&
		cairn init >/dev/null &&
		echo data >file &&
		cairn add -q file &&
		expect_code 1 cairn push >../out 2>../err1 &&
		expect_code 1 cairn fetch 2>../err2 &&
		expect_code 1 cairn pull 2>../err3
	) &&
	test_must_be_empty out &&
	for i in 1 2 3
	do
		test_grep "^error: no remote given and no default set" err$i || return 1
	done
'

test_expect_success '-r nosuch: a clear error, nothing created' '
	(
		cd A &&
		expect_code 1 cairn push -r nosuch 2>../err1 &&
		expect_code 1 cairn fetch -r nosuch 2>../err2 &&
		expect_code 1 cairn pull -r nosuch 2>../err3
	) &&
	for i in 1 2 3
	do
		test_grep "^error: no remote named .nosuch." err$i || return 1
	done &&
	test_path_is_missing A/nosuch &&
	test_path_is_missing nosuch
'

test_expect_success 'pull from an empty directory: a clear error, nothing written' '
	mkdir empty &&
	fresh_clone E "$TRASH_DIRECTORY/empty" &&
	(
		cd E &&
		expect_code 1 cairn pull >../out 2>../err &&
		expect_code 1 cairn fetch data/model 2>../err2
	) &&
	test_grep "^error: remote .bad. (.*empty) holds no cairn data" err &&
	test_grep "^error: remote .bad.*holds no cairn data" err2 &&
	ls -A empty >listing &&
	test_must_be_empty listing &&
	test_path_is_missing E/data/model &&
	test_path_is_missing E/data/images
'

test_expect_success 'pull from a path that does not exist: an error, and it is not created' '
	fresh_clone E2 "$TRASH_DIRECTORY/no/such/dir" &&
	(cd E2 && expect_code 1 cairn pull 2>../err) &&
	test_grep "^error: remote .bad.*holds no cairn data" err &&
	test_path_is_missing no &&
	test_path_is_missing E2/data/model
'

test_expect_success 'a directory with packs/ but no cairn-remote marker is refused' '
	copy_remote nomarker &&
	rm -f nomarker/cairn-remote &&
	fresh_clone E3 "$TRASH_DIRECTORY/nomarker" &&
	(cd E3 && expect_code 1 cairn pull 2>../err) &&
	test_grep "^error: remote .bad.*holds no cairn data" err &&
	test_path_is_missing E3/data/model
'

test_expect_success !ROOT 'push to a directory without write permission fails cleanly' '
	mkdir ro &&
	chmod 555 ro &&
	test_when_finished "chmod 755 \"$TRASH_DIRECTORY/ro\"" &&
	(
		cd A &&
		cairn remote add ro "$TRASH_DIRECTORY/ro" &&
		expect_code 1 cairn push -r ro >../out 2>../err
	) &&
	test_grep "^error: .*ro" err &&
	ls -A ro >listing &&
	test_must_be_empty listing
'

test_expect_success !ROOT 'push to a remote whose packs/ is read-only fails cleanly' '
	copy_remote ro2 &&
	chmod 555 ro2/packs &&
	test_when_finished "chmod 755 \"$TRASH_DIRECTORY/ro2/packs\"" &&
	ls -A ro2/packs >before &&
	git clone -q A W &&
	(
		cd W &&
		cairn pull -q -r origin &&
		mkdir more &&
		echo more >more/f &&
		cairn add -q more &&
		cairn remote add ro2 "$TRASH_DIRECTORY/ro2" &&
		expect_code 1 cairn push -r ro2 2>../err
	) &&
	test_grep "^error: .*ro2/packs" err &&
	ls -A ro2/packs >after &&
	test_cmp before after
'

test_expect_success 'push to a path that is a regular file fails (root too)' '
	echo "not a directory" >afile &&
	cp afile afile.orig &&
	(
		cd A &&
		cairn remote add file "$TRASH_DIRECTORY/afile" &&
		cairn remote add below "$TRASH_DIRECTORY/afile/sub" &&
		expect_code 1 cairn push -r file >../out 2>../err1 &&
		expect_code 1 cairn push -r below 2>../err2 &&
		expect_code 1 cairn fetch -r file 2>../err3
	) &&
	test_must_be_empty out &&
	test_grep "^error: .*afile" err1 &&
	test_grep "^error: .*afile" err2 &&
	test_grep "^error: " err3 &&
	test_cmp afile.orig afile
'

# The chunks of A went up as one pack (the largest). A full pull wants all
# of it and adopts the downloaded file as a local pack; model and images
# without small.bin want most of it (one read of the whole pack); small.bin
# alone wants a little (ranged reads). Each way must verify.

test_expect_success 'a corrupted pack: pull fails naming the pack, the work tree gets no wrong bytes' '
	copy_remote corrupt &&
	pack=$(largest_remote_pack corrupt) &&
	name=$(basename "$pack" .pack) &&
	flip_byte "$pack" $(( $(size_of "$pack") / 2 )) &&
	fresh_clone C1 "$TRASH_DIRECTORY/corrupt" &&
	(cd C1 && expect_code 1 cairn pull >../out 2>../err) &&
	test_grep "^error: remote .bad.: .*pack $name" err &&
	no_wrong_bytes orig/model C1/data/model &&
	no_wrong_bytes orig/images C1/data/images &&
	test_path_is_missing C1/small.bin &&
	(cd C1 && test_might_fail cairn checkout >../out2 2>../err2) &&
	no_wrong_bytes orig/model C1/data/model &&
	no_wrong_bytes orig/images C1/data/images &&
	{ test_path_is_missing C1/small.bin || cmp orig/small.bin C1/small.bin; }
'

test_expect_success 'a corrupted pack, -j 4: the same' '
	fresh_clone C2 "$TRASH_DIRECTORY/corrupt" &&
	(cd C2 && expect_code 1 cairn pull -j 4 >../out 2>../err) &&
	test_grep "^error: remote .bad.: .*pack [0-9a-f]\{32\}" err &&
	no_wrong_bytes orig/model C2/data/model &&
	no_wrong_bytes orig/images C2/data/images &&
	test_path_is_missing C2/small.bin
'

test_expect_success 'setup: a remote whose every chunk is damaged' '
	copy_remote corrupt-all &&
	damage_every_object "$(largest_remote_pack corrupt-all)"
'

test_expect_success 'every chunk damaged: a full pull (whole pack adopted) fails' '
	fresh_clone C3 "$TRASH_DIRECTORY/corrupt-all" &&
	(cd C3 && expect_code 1 cairn pull >../out 2>../err) &&
	test_grep "^error: remote .bad.: .*pack [0-9a-f]\{32\}" err &&
	test_path_is_missing C3/data/model &&
	test_path_is_missing C3/data/images &&
	test_path_is_missing C3/small.bin
'

test_expect_success 'every chunk damaged: most of the pack (one whole read) fails per object' '
	fresh_clone C4 "$TRASH_DIRECTORY/corrupt-all" &&
	(cd C4 && expect_code 1 cairn pull data/model data/images >../out 2>../err) &&
	test_grep "^error: remote .bad.: chunk [0-9a-f]\{32\} in pack [0-9a-f]\{32\} " err &&
	test_path_is_missing C4/data/model &&
	test_path_is_missing C4/data/images
'

test_expect_success 'every chunk damaged: a little of the pack (ranged reads) fails per object' '
	fresh_clone C5 "$TRASH_DIRECTORY/corrupt-all" &&
	(cd C5 && expect_code 1 cairn pull -j 4 small.bin >../out 2>../err) &&
	test_grep "^error: remote .bad.: chunk [0-9a-f]\{32\} in pack [0-9a-f]\{32\} .*needed by .small.bin" err &&
	test_path_is_missing C5/small.bin
'

test_expect_success 'after a failed pull, pulling from a good remote completes' '
	(
		cd C1 &&
		cairn remote add good "$GOOD" &&
		cairn pull -r good >../out 2>../err
	) &&
	same_tree orig/model C1/data/model &&
	same_tree orig/images C1/data/images &&
	cmp orig/small.bin C1/small.bin
'

test_expect_success 'a truncated pack: pull fails naming the pack, no wrong bytes' '
	copy_remote truncated &&
	pack=$(largest_remote_pack truncated) &&
	name=$(basename "$pack" .pack) &&
	truncate -s $(( $(size_of "$pack") / 2 )) "$pack" &&
	fresh_clone T1 "$TRASH_DIRECTORY/truncated" &&
	(cd T1 && expect_code 1 cairn pull >../out 2>../err) &&
	test_grep "^error: remote .bad.: .*pack $name" err &&
	no_wrong_bytes orig/model T1/data/model &&
	no_wrong_bytes orig/images T1/data/images &&
	fresh_clone T2 "$TRASH_DIRECTORY/truncated" &&
	(cd T2 && expect_code 1 cairn pull -j 4 2>../err2) &&
	test_grep "^error: remote .bad.: .*pack $name" err2 &&
	no_wrong_bytes orig/model T2/data/model &&
	no_wrong_bytes orig/images T2/data/images
'

test_expect_success 'a deleted pack whose index is still there: fetch fails clearly' '
	copy_remote nopack &&
	pack=$(largest_remote_pack nopack) &&
	name=$(basename "$pack" .pack) &&
	rm -f "$pack" &&
	fresh_clone D1 "$TRASH_DIRECTORY/nopack" &&
	(cd D1 && expect_code 1 cairn fetch >../out 2>../err) &&
	test_grep "^error: remote .bad. lost a pack it lists" err &&
	test_grep "$name" err &&
	(cd D1 && expect_code 1 cairn pull 2>../err2) &&
	test_grep "^error: " err2 &&
	no_wrong_bytes orig/model D1/data/model &&
	no_wrong_bytes orig/images D1/data/images
'

test_expect_success 'a deleted index: the remote does not have those objects' '
	copy_remote noidx &&
	pack=$(largest_remote_pack noidx) &&
	rm -f "${pack%.pack}.idx" &&
	fresh_clone I1 "$TRASH_DIRECTORY/noidx" &&
	(cd I1 && expect_code 1 cairn pull >../out 2>../err) &&
	test_grep "^error: remote .bad. does not have [a-z]* [0-9a-f]\{32\}, needed by .[a-z]" err &&
	no_wrong_bytes orig/model I1/data/model &&
	no_wrong_bytes orig/images I1/data/images
'

test_expect_success 'an index deleted after the clone learned it: forgotten, same error' '
	copy_remote noidx2 &&
	fresh_clone I2 "$TRASH_DIRECTORY/noidx2" &&
	(cd I2 && cairn fetch -q data/model) &&
	pack=$(largest_remote_pack noidx2) &&
	rm -f "${pack%.pack}.idx" &&
	(cd I2 && expect_code 1 cairn pull data/images 2>../err) &&
	test_grep "^error: remote .bad. does not have" err &&
	test_path_is_missing I2/data/images
'

test_expect_success 'a corrupted index on the remote: a clear error naming it' '
	copy_remote badidx &&
	idx=$(ls badidx/packs/*.idx | head -n 1) &&
	flip_byte "$idx" 60 &&
	fresh_clone X1 "$TRASH_DIRECTORY/badidx" &&
	(cd X1 && expect_code 1 cairn pull 2>../err) &&
	test_grep "^error: .*$(basename "$idx")" err &&
	test_path_is_missing X1/data/model &&
	test_path_is_missing X1/data/images
'

test_expect_success 'setup: a remote holding the same objects in two packs' '
	git init -q dup &&
	(
		cd dup &&
		cairn init >/dev/null &&
		mkdir X Y &&
		make_random X/f 300000 41 &&
		make_random Y/f 300000 42 &&
		cairn add -q X Y &&
		cairn remote add one "$TRASH_DIRECTORY/dup-one" &&
		cairn remote add two "$TRASH_DIRECTORY/dup-two" &&
		git add -A &&
		git commit -q -m xy &&
		cairn push -q -r one X &&
		cairn push -q -r two X Y
	) &&
	cp dup-two/packs/* dup-one/packs/ &&
	cp -R dup/X dup-X &&
	git clone -q dup dupclone &&
	(cd dupclone && cairn fetch -q -r one Y) &&
	first=$(ls dup-one/packs/*.idx | LC_ALL=C sort | head -n 1) &&
	rm -f "$first" "${first%.idx}.pack" &&
	git clone -q dup dupfresh &&
	(cd dupfresh && cairn pull -q -r one X) &&
	same_tree dup-X dupfresh/X
'

test_expect_success 'a pack that vanished does not hide objects another pack still has' '
	(cd dupclone && cairn pull -r one X >../out 2>../err) &&
	same_tree dup-X dupclone/X
'

# kill_push_loop REPO CLONE REMOTE MAX [PATH...]: $ITER times, start a
# push from REPO to the empty directory REMOTE, kill it after 0 to MAX s,
# push again; the re-run must succeed, leave every pack with its index,
# and CLONE must then pull what REPO has. Appends to the figures.
kill_push_loop () {
	klp_repo=$1 klp_clone=$2 klp_remote=$3 klp_max=$4 &&
	shift 4 &&
	kills=0 &&
	for i in $(test_seq 1 $ITER)
	do
		rm -rf "$klp_remote" &&
		{ (cd "$klp_repo" && exec cairn push -q -j 4 "$@") >/dev/null 2>&1 & pid=$!; } &&
		sleep $(random_delay $klp_max) &&
		{ kill -9 $pid 2>/dev/null && kills=$((kills + 1)) || :; } &&
		{ wait $pid || :; } &&
		(cd "$klp_repo" && cairn push -q "$@") &&
		(cd "$klp_remote" && find . -type f | sed "s|^\./||" | LC_ALL=C sort) >files &&
		{ grep -v -E "^(cairn-remote|packs/[0-9a-f]{32}\.(pack|idx)|audit/[0-9a-f]{32}-[0-9]{12}-[0-9]{12}\.log)\$" files >other || :; } &&
		{ grep -v -E "^(packs/|audit/)?\.tmp-" other >>remote-leftovers || :; } &&
		{ grep -E "^(packs/|audit/)?\.tmp-" other >>tmp-leftovers || :; } &&
		sed -n "s|^packs/\(.*\)\.pack\$|\1|p" files >packs &&
		sed -n "s|^packs/\(.*\)\.idx\$|\1|p" files >idx &&
		test_cmp packs idx &&
		rm -rf "$klp_clone/big" "$klp_clone/.cairn/store" &&
		(cd "$klp_clone" && cairn pull -q -j 4 big) &&
		same_tree big.copy "$klp_clone/big" || return 1
	done &&
	echo "push $klp_repo: $ITER iterations, $kills killed mid-run, 0 losses, $(wc -l <tmp-leftovers) .tmp-* files left on the remote so far" >>"$TRASH_DIRECTORY/figures"
}

test_expect_success 'setup: 24 MB of random data, in one local pack and in small ones' '
	mkdir big.copy extra &&
	for i in $(test_seq 1 8)
	do
		head -c 3000000 /dev/urandom >big.copy/f$i || return 1
	done &&
	head -c 3000000 /dev/urandom >extra/f &&
	git init -q K &&
	(
		cd K &&
		cairn init >/dev/null &&
		cp -R ../big.copy big &&
		cp -R ../extra extra &&
		cairn add -q big extra &&
		cairn config --local pack.size 1m &&
		cairn remote add origin "$TRASH_DIRECTORY/kremote" &&
		git add -A &&
		git commit -q -m big
	) &&
	git clone -q K K2 &&
	git init -q KW &&
	(
		cd KW &&
		cairn init >/dev/null &&
		cairn config --local pack.size 1m &&
		cp -R ../big.copy big &&
		cairn add -q big &&
		cairn remote add origin "$TRASH_DIRECTORY/kwremote" &&
		git add -A &&
		git commit -q -m big
	) &&
	ls KW/.cairn/store/packs/*.pack >kw-packs &&
	test_line_count -gt 8 kw-packs &&
	git clone -q KW KW2 &&
	: >remote-leftovers &&
	: >tmp-leftovers
'

test_expect_success "kill -9 during push of part of a local pack, $ITER times: re-run completes" '
	kill_push_loop K K2 "$TRASH_DIRECTORY/kremote" 0.1 big &&
	test_must_be_empty remote-leftovers
'

test_expect_success "kill -9 during push of whole local packs, $ITER times: re-run completes" '
	kill_push_loop KW KW2 "$TRASH_DIRECTORY/kwremote" 0.05 &&
	test_must_be_empty remote-leftovers
'

test_expect_success "kill -9 during pull, $ITER times: fsck clean, re-run completes" '
	(cd K && cairn push -q) &&
	kills=0 &&
	for i in $(test_seq 1 $ITER)
	do
		rm -rf K2/big K2/.cairn/store &&
		{ (cd K2 && exec cairn pull -q -j 4 big) >/dev/null 2>&1 & pid=$!; } &&
		sleep $(random_delay 0.1) &&
		{ kill -9 $pid 2>/dev/null && kills=$((kills + 1)) || :; } &&
		{ wait $pid || :; } &&
		(cd K2 && cairn fsck -q && cairn pull -q -f -j 4 big && cairn fsck -q) &&
		same_tree big.copy K2/big &&
		ls -A K2/.cairn/store/tmp >leftover && test_must_be_empty leftover || return 1
	done &&
	echo "pull: $ITER iterations, $kills killed mid-run, 0 losses" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'a killed push leaves nothing in .cairn/store/tmp once push and add ran again' '
	rm -rf kremote K/.cairn/store/tmp/push-* &&
	{ (cd K && exec cairn push -q) >/dev/null 2>&1 & pid=$!; } &&
	n=0 &&
	while ! test -d K/.cairn/store/tmp/push-$pid && test $n -lt 500
	do
		sleep 0.01 && n=$((n + 1)) || return 1
	done &&
	{ kill -9 $pid 2>/dev/null || :; } &&
	{ wait $pid || :; } &&
	(
		cd K &&
		cairn push -q &&
		echo more >more &&
		cairn add -q more &&
		cairn push -q
	) &&
	ls -A K/.cairn/store/tmp >leftover &&
	test_must_be_empty leftover
'

test_done
