#!/bin/sh

test_description='cairn push, fetch and pull with a directory remote

Repository A adds datasets and pushes them to a directory remote; clones
of A (real git clones) pull them back byte for byte: all paths or some,
fetch without touching the work tree, incremental pushes that send only
the changed chunks, old versions after newer pushes, -j 1 and -j 4. The
remote holds a marker file and packs with their indexes, nothing else.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi
if ! test_have_prereq SYMLINKS
then
	skip_all='this file system has no symlinks'
	test_done
fi

REMOTE=$TRASH_DIRECTORY/remote

# remote_files: every file under the remote but the audit trail's
# segments (each push adds one; t0060 checks them), one per line, sorted.
remote_files () {
	(cd "$REMOTE" && find . -type f | sed "s|^\./||" | grep -v "^audit/" | LC_ALL=C sort)
}

# remote_bytes: the sum of the sizes of those files.
remote_bytes () {
	find "$REMOTE" -path "$REMOTE/audit" -prune -o -type f -printf "%s\n" | awk "{ s += \$1 } END { print s + 0 }"
}

# pushed_objects FILE: N of the "pushed N objects" line.
pushed_objects () {
	sed -n "s/^pushed \([0-9][0-9]*\) objects .*/\1/p" "$1"
}

# check_layout: the marker, packs/HEX.pack and packs/HEX.idx only; every
# pack with its index and every index with its pack; each index names its
# pack and the pack's size.
check_layout () {
	printf "cairn remote format 1\n" >layout.marker &&
	test_cmp layout.marker "$REMOTE/cairn-remote" &&
	remote_files >layout.files &&
	{ grep -v -E "^(cairn-remote|packs/[0-9a-f]{32}\.(pack|idx))\$" layout.files >layout.other || :; } &&
	test_must_be_empty layout.other &&
	(cd "$REMOTE" && find . -mindepth 1 -type d | LC_ALL=C sort) >layout.dirs &&
	printf "./audit\n./packs\n" >layout.dirs.expect &&
	ls "$REMOTE/audit" >layout.audit &&
	{ grep -v -E "^[0-9a-f]{32}-[0-9]{12}-[0-9]{12}\.log\$" layout.audit >layout.audit.other || :; } &&
	test_must_be_empty layout.audit.other &&
	test_cmp layout.dirs.expect layout.dirs &&
	sed -n "s|^packs/\(.*\)\.pack\$|\1|p" layout.files >layout.packs &&
	sed -n "s|^packs/\(.*\)\.idx\$|\1|p" layout.files >layout.idx &&
	test_file_not_empty layout.packs &&
	test_cmp layout.packs layout.idx &&
	python3 -c '
import os, struct, sys
d = os.path.join(sys.argv[1], "packs")
for line in open(sys.argv[2]):
    name = line.strip()
    idx = open(os.path.join(d, name + ".idx"), "rb").read()
    pack = open(os.path.join(d, name + ".pack"), "rb").read(16)
    assert idx[:8] == b"CAIRNIX\0", name + ": bad index magic"
    assert pack[:8] == b"CAIRNPK\0", name + ": bad pack magic"
    count = struct.unpack("<I", idx[12:16])[0]
    assert len(idx) == 48 + 36 * count + 16, name + ": bad index length"
    assert idx[16:32].hex() == name, name + ": index names another pack"
    size = struct.unpack("<Q", idx[32:40])[0]
    real = os.path.getsize(os.path.join(d, name + ".pack"))
    assert size == real, "%s: index says %d bytes, pack has %d" % (name, size, real)
' "$REMOTE" layout.packs
}

test_expect_success 'setup: repository A with datasets, odd files and a single-file pointer' '
	"$TEST_DIRECTORY/gen-dataset" --out gen --scale 0.001 -q model tabular images &&
	git init -q A &&
	(cd A && cairn init >/dev/null) &&
	mkdir A/data &&
	cp -R gen/model gen/tabular gen/images A/data/ &&
	mkdir -p A/misc/a/b/c A/misc/emptydir A/misc/a/b/emptier &&
	: >A/misc/empty1 &&
	: >A/misc/a/empty2 &&
	printf "#!/bin/sh\necho hi\n" >A/misc/run.sh &&
	chmod 755 A/misc/run.sh &&
	echo deep >A/misc/a/b/c/deep &&
	ln -s a/b A/misc/dirlink &&
	ln -s ../run.sh A/misc/a/filelink &&
	ln -s nowhere A/misc/dangling &&
	make_random A/misc/a/b/c/rand 300000 1 &&
	make_random A/weights.bin 700000 2 &&
	cp -R A/data orig-data &&
	cp -R A/misc orig-misc &&
	cp A/weights.bin orig-weights.bin &&
	(
		cd A &&
		cairn add -q data/model data/tabular data/images misc weights.bin &&
		cairn remote add origin "$REMOTE" &&
		git add -A &&
		git commit -q -m v1
	) &&
	test_path_is_file A/data/model.cairn &&
	test_path_is_file A/weights.bin.cairn &&
	test_path_is_missing "$REMOTE"
'

test_expect_success 'push sends everything and creates the remote' '
	(cd A && cairn push >../out 2>../err) &&
	test_must_be_empty err &&
	test_grep "^pushed [0-9][0-9]* objects (.* in [0-9][0-9]* requests) to .origin. ($REMOTE); [0-9][0-9]* already there\$" out &&
	test $(pushed_objects out) -gt 50 &&
	check_layout
'

test_expect_success 'a second push sends nothing ("pushed 0 objects")' '
	remote_files >before &&
	(cd A && cairn push >../out 2>../err) &&
	test_must_be_empty err &&
	test_grep "^pushed 0 objects (0 B in " out &&
	remote_files >after &&
	test_cmp before after
'

test_expect_success 'a git clone B pulls every file back byte for byte' '
	git clone -q A B &&
	test_path_is_missing B/data/model &&
	(cd B && cairn pull >../out 2>../err) &&
	test_grep "^fetched [1-9][0-9]* objects" out &&
	test_grep "^data/images: 50 written, 0 removed\$" out &&
	for d in model tabular images
	do
		same_tree orig-data/$d B/data/$d || return 1
	done &&
	same_tree orig-misc B/misc &&
	cmp orig-weights.bin B/weights.bin &&
	test -x B/misc/run.sh &&
	test "$(readlink B/misc/dirlink)" = a/b &&
	test "$(readlink B/misc/dangling)" = nowhere &&
	test_path_is_dir B/misc/emptydir &&
	test_path_is_dir B/misc/a/b/emptier &&
	test_must_be_empty B/misc/empty1 &&
	(cd B && cairn status >../status) &&
	test_grep -E "^all [0-9]+ tracked paths match" status
'

test_expect_success 'a second pull fetches nothing and writes nothing' '
	(cd B && cairn pull >../out 2>../err) &&
	test_must_be_empty err &&
	test_grep "^fetched 0 objects (0 B in " out &&
	test_grep ! "written" out
'

test_expect_success 'a fetch with nothing to do says what was already there' '
	(cd B && cairn fetch >../out 2>../err) &&
	test_grep "^fetched 0 objects" out &&
	test_grep ! "; 0 already there" out
'

test_expect_success 'pull PATH fetches only what PATH needs' '
	git clone -q A C &&
	(
		cd C &&
		cairn pull data/model >../out 2>../err &&
		cairn stats --json >../stats-C
	) &&
	test_must_be_empty err &&
	same_tree orig-data/model C/data/model &&
	test_path_is_missing C/data/images &&
	test_path_is_missing C/data/tabular &&
	test_path_is_missing C/misc &&
	test_path_is_missing C/weights.bin &&
	(cd B && cairn stats --json >../stats-B) &&
	subset=$(json_get stats-C chunks) &&
	full=$(json_get stats-B chunks) &&
	test "$subset" -gt 0 &&
	test "$subset" -lt "$full"
'

test_expect_success 'pull of a pointer file name and of a file pointer' '
	(cd C && cairn pull -q data/tabular.cairn weights.bin >../out 2>../err) &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	same_tree orig-data/tabular C/data/tabular &&
	cmp orig-weights.bin C/weights.bin &&
	test_path_is_missing C/data/images
'

test_expect_success 'fetch fills the store and leaves the work tree alone' '
	git clone -q A D &&
	(
		cd D &&
		cairn fetch data/images.cairn >../out 2>../err &&
		cairn stats --json >../stats-after
	) &&
	test_must_be_empty err &&
	test_grep "^fetched [1-9][0-9]* objects" out &&
	test_path_is_missing D/data/images &&
	test_path_is_missing D/data/model &&
	test "$(json_get stats-after chunks)" -gt 0
'

test_expect_success 'after fetch, checkout works with the remote gone' '
	mv "$REMOTE" "$REMOTE.away" &&
	test_when_finished "mv \"$REMOTE.away\" \"$REMOTE\"" &&
	(cd D && cairn checkout data/images >../out 2>../err) &&
	same_tree orig-data/images D/data/images &&
	test_path_is_missing D/data/model &&
	(cd D && test_must_fail cairn pull data/model 2>../err) &&
	test_grep "^error: " err &&
	test_path_is_missing D/data/model
'

test_expect_success 'setup: a few MB of random data in A, pushed' '
	mkdir A/big &&
	for i in 1 2 3 4
	do
		make_random A/big/f$i 2000000 $((10 + i)) || return 1
	done &&
	cp -R A/big big.v1 &&
	(
		cd A &&
		cairn add -q big &&
		git add -A &&
		git commit -q -m big-v1 &&
		cairn push >../out
	) &&
	test $(pushed_objects out) -gt 20 &&
	git -C A rev-parse HEAD >big-v1-commit
'

test_expect_success 'incremental push: one changed region sends far less than the dataset' '
	python3 -c "
import sys
with open(sys.argv[1], \"r+b\") as f:
    f.seek(1000000)
    f.write(b\"an edit in the middle of the file\" * 30)
" A/big/f3 &&
	cp -R A/big big.v2 &&
	! cmp -s big.v1/f3 big.v2/f3 &&
	(cd A && cairn add -q big && git add -A && git commit -q -m big-v2) &&
	before=$(remote_bytes) &&
	(cd A && cairn push >../out 2>../err) &&
	test_must_be_empty err &&
	after=$(remote_bytes) &&
	growth=$((after - before)) &&
	echo "remote grew by $growth bytes for an 8000000-byte dataset" &&
	test "$growth" -gt 0 &&
	test "$growth" -lt 1000000 &&
	test_grep -E "^pushed [1-9][0-9]* objects \([0-9.]+ (B|KiB) in " out &&
	check_layout
'

test_expect_success 'B pulls the new version' '
	git -C B pull -q &&
	(cd B && cairn pull >../out 2>../err) &&
	test_must_be_empty err &&
	same_tree big.v2 B/big &&
	same_tree orig-data/model B/data/model
'

test_expect_success 'the old version is still fetchable after the newer push' '
	git clone -q A F &&
	(
		cd F &&
		git checkout -q "$(cat ../big-v1-commit)" &&
		cairn pull big >../out 2>../err
	) &&
	test_must_be_empty err &&
	same_tree big.v1 F/big &&
	(
		cd F &&
		git checkout -q main &&
		cairn pull big >../out2 2>../err2
	) &&
	same_tree big.v2 F/big &&
	(
		cd B &&
		git checkout -q HEAD~1 -- big.cairn &&
		cairn pull big >../out3 2>../err3
	) &&
	same_tree big.v1 B/big &&
	git -C B checkout -q HEAD -- big.cairn &&
	(cd B && cairn checkout -q big) &&
	same_tree big.v2 B/big
'

for j in 1 4
do
	test_expect_success "pull -j $j: everything byte for byte" '
		git clone -q A J$j &&
		(cd J$j && cairn pull -q -j $j >../out 2>../err) &&
		test_must_be_empty out &&
		test_must_be_empty err &&
		for d in model tabular images
		do
			same_tree orig-data/$d J$j/data/$d || return 1
		done &&
		same_tree orig-misc J$j/misc &&
		same_tree big.v2 J$j/big &&
		cmp orig-weights.bin J$j/weights.bin
	'
done

test_expect_success 'push -j 1 and push -j 4 make the same packs; both pull back' '
	(
		cd A &&
		cairn remote add --local j1 "$TRASH_DIRECTORY/remote-j1" &&
		cairn remote add --local j4 "$TRASH_DIRECTORY/remote-j4" &&
		cairn push -q -j 1 -r j1 &&
		cairn push -q -j 4 -r j4
	) &&
	(cd remote-j1 && find . -type f | grep -v "^./audit/" | LC_ALL=C sort) >files-j1 &&
	(cd remote-j4 && find . -type f | grep -v "^./audit/" | LC_ALL=C sort) >files-j4 &&
	test_cmp files-j1 files-j4 &&
	for j in 1 4
	do
		rm -rf PJ &&
		git clone -q A PJ &&
		(
			cd PJ &&
			cairn remote add pj "$TRASH_DIRECTORY/remote-j$j" &&
			cairn pull -q -r pj -j $j
		) &&
		same_tree orig-data/images PJ/data/images &&
		same_tree orig-misc PJ/misc &&
		same_tree big.v2 PJ/big &&
		cmp orig-weights.bin PJ/weights.bin || return 1
	done
'

test_expect_success 'a remote of many small packs (pack.size 4096) pulls with -j 4' '
	git clone -q A P &&
	(
		cd P &&
		cairn config --local pack.size 4096 &&
		cairn pull -q data/images data/model &&
		cairn remote add small "$TRASH_DIRECTORY/small-remote" &&
		cairn push -q -r small data/images data/model
	) &&
	ls "$TRASH_DIRECTORY/small-remote/packs" | grep -c "\.pack\$" >npacks &&
	test "$(cat npacks)" -gt 8 &&
	git clone -q A P2 &&
	(
		cd P2 &&
		cairn remote add small "$TRASH_DIRECTORY/small-remote" &&
		cairn pull -q -r small -j 4 data/images data/model
	) &&
	same_tree orig-data/images P2/data/images &&
	same_tree orig-data/model P2/data/model &&
	test_path_is_missing P2/data/tabular
'

test_expect_success 'push PATH sends only what PATH needs' '
	git clone -q A S &&
	(
		cd S &&
		cairn pull -q data/model data/tabular &&
		cairn remote add -d part "$TRASH_DIRECTORY/part-remote" &&
		cairn push data/model >../out 2>../err &&
		git add .cairn/config &&
		git commit -q -m "remote part"
	) &&
	test_must_be_empty err &&
	git clone -q S S2 &&
	(
		cd S2 &&
		cairn pull data/model &&
		test_must_fail cairn pull data/tabular 2>../err
	) &&
	same_tree orig-data/model S2/data/model &&
	test_grep "^error: .*does not have" err &&
	test_path_is_missing S2/data/tabular
'

test_expect_success 'pull refuses to overwrite local changes; pull -f discards them' '
	echo "local edit" >>B/data/model/config.json &&
	(cd B && test_must_fail cairn pull data/model 2>../err) &&
	test_grep "^error: " err &&
	test_grep "local edit" B/data/model/config.json &&
	(cd B && cairn pull -f data/model >../out 2>../err) &&
	same_tree orig-data/model B/data/model
'

test_expect_success 'pull goes on with the other paths after one is refused' '
	git clone -q A R &&
	(cd R && cairn pull -q) &&
	echo "local edit" >>R/data/images/train/n01440000/img_0000001.jpg &&
	rm -rf R/data/tabular R/misc &&
	(cd R && expect_code 1 cairn pull >../out 2>../err) &&
	test_grep "^error: .*local change" err &&
	test_grep "local edit" R/data/images/train/n01440000/img_0000001.jpg &&
	same_tree orig-data/tabular R/data/tabular &&
	same_tree orig-misc R/misc
'

test_expect_success 'a dataset of 200 small files makes a few files on the remote, not 200' '
	mkdir A/many &&
	python3 -c "
import random, sys
for i in range(1, 201):
    r = random.Random(100 + i)
    open(\"%s/f%d\" % (sys.argv[1], i), \"wb\").write(r.randbytes(500 + i))
" A/many &&
	ls A/many >many-list &&
	test_line_count = 200 many-list &&
	remote_files >before &&
	(cd A && cairn add -q many && git add -A && git commit -q -m many && cairn push >../out) &&
	test $(pushed_objects out) -ge 200 &&
	remote_files >after &&
	comm -13 before after >new-files &&
	test_line_count -gt 0 new-files &&
	test_line_count -le 4 new-files &&
	check_layout &&
	remote_files >all &&
	test_line_count -lt 40 all &&
	git -C B pull -q &&
	(cd B && cairn pull -q many) &&
	same_tree A/many B/many
'

test_expect_success 'the remote layout: marker, packs and their indexes, nothing else' '
	check_layout &&
	test "$(stat -c %a "$REMOTE/cairn-remote")" = 444 &&
	for f in "$REMOTE"/packs/*
	do
		test "$(stat -c %a "$f")" = 444 || return 1
	done
'

test_expect_success 'push from a clone that has only the pointers: all there already' '
	git clone -q A G &&
	(cd G && cairn push >../out 2>../err) &&
	test_must_be_empty err &&
	test_grep "^pushed 0 objects" out
'

test_expect_success 'push -h, fetch -h, pull -h: usage on stdout, exit 0' '
	(
		cd A &&
		cairn push -h >../out-push 2>../err &&
		cairn fetch -h >../out-fetch 2>>../err &&
		cairn pull -h >../out-pull 2>>../err
	) &&
	test_must_be_empty err &&
	test_grep -x "usage: cairn push \[-r REMOTE\] \[-j N\] \[-q\] \[--rev REV | --all-commits\] \[PATH...\]" out-push &&
	test_grep -x "usage: cairn fetch \[-r REMOTE\] \[-j N\] \[-q\] \[--rev REV\] \[PATH...\]" out-fetch &&
	test_grep -x "usage: cairn pull \[-r REMOTE\] \[-j N\] \[-q\] \[-f\] \[--rev REV\] \[PATH...\]" out-pull
'

# bad_options: push, fetch and pull refuse bad options with exit 129.
bad_options () {
	(
		cd A &&
		expect_code 129 cairn push --frob >../out1 2>../err1 &&
		expect_code 129 cairn fetch -j 0 >../out2 2>../err2 &&
		expect_code 129 cairn pull -j many >../out3 2>../err3
	) &&
	test_grep "^error: .*--frob" err1 &&
	test_grep "^usage: cairn push" err1 &&
	test_grep "^error: .*--jobs" err2 &&
	test_grep "^usage: cairn fetch" err2 &&
	test_grep "^usage: cairn pull" err3 &&
	test_must_be_empty out1 &&
	test_must_be_empty out2 &&
	test_must_be_empty out3
}

# (under the sanitizer pass a leak would turn 129 into 134)
test_expect_success 'push, fetch, pull: a bad option is a usage error (exit 129)' '
	bad_options
'

test_done
