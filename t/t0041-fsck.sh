#!/bin/sh

test_description='cairn fsck: the local store, a remote, and --repair

A dataset changes over several commits (a real git history, pushed whole
to a directory remote). fsck finds nothing wrong with a good store, then
finds each kind of damage: a flipped byte inside an object of a pack, a
truncated pack, a deleted pack, an object that a pointer needs and the
store lacks. Each time it exits 1 naming the pack, the object and a
tracked path it affects, and fsck --repair fetches what is damaged again
from the remote, after which fsck is clean and every version checks out
byte for byte. fsck -r checks a remote: good, a flipped byte (read with
--read-data), a deleted pack, a damaged pack index.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

REMOTE=$TRASH_DIRECTORY/remote
PACKS=.cairn/store/packs

# meta_pack DIR: a pack in DIR that holds trees.
meta_pack () {
	for i in "$1"/*.idx
	do
		if idx_entries "$i" | grep -q " 3 [0-9]* [0-9]*\$"
		then
			basename "$i" .idx
			return 0
		fi
	done
	return 1
}

# commit_version N: change the dataset a little, add, commit, save a copy
commit_version () {
	n=$1 &&
	make_random data/f$((n % 3)) $((20000 + n * 997)) $n &&
	echo "row $n" >>data/log.csv &&
	save_version $n
}

# all_versions_restore: every saved version checks out byte for byte
all_versions_restore () {
	for n in 1 2 3 4 5 6
	do
		cairn checkout -q -f --rev "$(cat ../saved/$n.commit)" data &&
		diff -r data ../saved/$n || return 1
	done &&
	cairn checkout -q -f
}

# save_store / restore_store: undo damage to the local store
save_store () {
	rm -rf ../store.good && cp -a .cairn/store ../store.good
}
restore_store () {
	chmod -R u+w .cairn/store && rm -rf .cairn/store && cp -a ../store.good .cairn/store
}

# flip_biggest_chunk: flips a byte in the middle of the biggest chunk of
# a chunk pack; writes "PACK OID" to ./flipped.
flip_biggest_chunk () {
	pack=$(chunk_pack $PACKS) &&
	idx_entries $PACKS/$pack.idx | grep " 1 [0-9]* [0-9]*\$" | sort -k4 -n | tail -n 1 >entry &&
	read oid type off len <entry &&
	flip_byte $PACKS/$pack.pack $((off + 28 + len / 2)) &&
	echo "$pack $oid" >flipped
}

test_expect_success 'setup: six versions of a dataset, pushed to a remote' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 256:1024:4096 &&
	mkdir data && echo header >data/log.csv &&
	for n in 1 2 3 4 5 6; do commit_version $n || return 1; done &&
	cairn remote add -d origin "$REMOTE" && git add -A && git commit -qm remote &&
	cairn push -q --all-commits &&
	save_store
'

test_expect_success 'fsck of a good store: no problems, exit 0' '
	cd repo &&
	cairn fsck >out &&
	test_grep "no problems" out &&
	test_grep "of 6 pointer versions" out &&
	cairn fsck --json >out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert d[\"problems\"] == [], d
assert d[\"objects\"] > 0 and d[\"files\"] > 0 and d[\"packs\"] > 0, d
"
'

test_expect_success 'fsck -h, and bad usage' '
	cairn fsck -h >out &&
	test_grep "^usage: cairn fsck" out &&
	(
		cd repo &&
		expect_code 129 cairn fsck --frob 2>../err &&
		test_grep "^usage: cairn fsck" ../err &&
		expect_code 129 cairn fsck --read-data 2>../err &&
		test_grep "read-data" ../err &&
		test_must_fail cairn fsck -r nosuch 2>../err &&
		test_grep "no remote named" ../err
	) &&
	test_must_fail cairn fsck 2>err &&
	test_grep "git" err
'

test_expect_success 'a flipped byte inside a chunk: exit 1, the chunk, its pack, a path' '
	cd repo &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && restore_store" &&
	flip_biggest_chunk &&
	read pack oid <flipped &&
	expect_code 1 cairn fsck >out 2>err &&
	test_grep "^corrupt-object: chunk $oid in pack $pack" out &&
	test_grep "affects .data/" out &&
	test_grep "^error: 1 problem in the local store" err &&
	expect_code 1 cairn fsck --json >out.json &&
	python3 -c "
import json, sys
p = json.load(open(\"out.json\"))[\"problems\"]
assert len(p) == 1 and p[0][\"kind\"] == \"corrupt-object\", p
assert p[0][\"object\"] == sys.argv[1] and p[0][\"pack\"] == sys.argv[2], p
assert p[0][\"paths\"][0].startswith(\"data/f\"), p
" "$oid" "$pack"
'

test_expect_success 'fsck --repair fetches the chunk again; clean, every version restores' '
	cd repo &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && restore_store" &&
	flip_biggest_chunk &&
	read pack oid <flipped &&
	cairn fsck --repair >out &&
	test_grep "^repaired: 1 objects" out &&
	test_grep "no problems" out &&
	cairn fsck &&
	all_versions_restore
'

test_expect_success 'a truncated pack: exit 1 naming the pack and a path; --repair' '
	cd repo &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && restore_store" &&
	pack=$(chunk_pack $PACKS) &&
	size=$(size_of $PACKS/$pack.pack) &&
	chmod u+w $PACKS/$pack.pack &&
	truncate -s $((size / 2)) $PACKS/$pack.pack &&
	expect_code 1 cairn fsck >out &&
	test_grep "^pack-size: pack $pack is truncated: $((size / 2)) bytes, the index says $size" out &&
	test_grep "cannot be read; affects .data/" out &&
	cairn fsck --repair >out &&
	test_grep "no problems" out &&
	cairn fsck &&
	all_versions_restore
'

test_expect_success 'a deleted pack: exit 1 naming it and the paths; --repair' '
	cd repo &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && restore_store" &&
	pack=$(chunk_pack $PACKS) &&
	rm -f $PACKS/$pack.pack &&
	expect_code 1 cairn fsck >out &&
	test_grep "^missing-pack: pack $pack is missing" out &&
	test_grep "affects .data/" out &&
	cairn fsck --repair >out &&
	test_grep "no problems" out &&
	cairn fsck &&
	all_versions_restore
'

test_expect_success 'a deleted pack of trees: the trees it held are named' '
	cd repo &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && restore_store" &&
	pack=$(meta_pack $PACKS) &&
	rm -f $PACKS/$pack.pack $PACKS/$pack.idx &&
	expect_code 1 cairn fsck >out &&
	test_grep "^missing-pack: pack $pack is missing" out &&
	test_grep "affects .data" out &&
	cairn fsck --repair >out &&
	cairn fsck &&
	all_versions_restore
'

test_expect_success 'repair without a remote that has the data: exit 1, what is left is named' '
	cd repo &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && restore_store" &&
	mkdir ../empty-remote && echo "cairn remote format 1" >../empty-remote/cairn-remote &&
	cairn remote add --local empty "$TRASH_DIRECTORY/empty-remote" &&
	test_when_finished "cd \"$TRASH_DIRECTORY/repo\" && cairn remote remove empty" &&
	pack=$(chunk_pack $PACKS) &&
	rm -f $PACKS/$pack.pack &&
	expect_code 1 cairn fsck --repair -r empty >out 2>err &&
	test_grep "^not repaired: chunk .*the remote does not have it" out &&
	test_grep "^missing-pack: pack $pack" out &&
	test_grep "^error: 1 problem in the local store after repair" err
'

test_expect_success 'an object a pointer needs that the store lacks: missing-object' '
	git clone -q repo partial && cd partial &&
	mkdir ../meta-remote &&
	cp ../remote/cairn-remote ../meta-remote/ && mkdir ../meta-remote/packs &&
	for i in ../remote/packs/*.idx
	do
		if ! idx_entries "$i" | grep -q " 1 [0-9]* [0-9]*\$"
		then
			p=$(basename "$i" .idx) &&
			cp ../remote/packs/$p.pack ../remote/packs/$p.idx ../meta-remote/packs/ || return 1
		fi
	done &&
	cairn remote add --local meta "$TRASH_DIRECTORY/meta-remote" &&
	test_must_fail cairn fetch -q -r meta 2>err &&
	test_grep "does not have chunk" err &&
	# an interrupted fetch leaves the store incomplete, not damaged
	test_path_is_file .cairn/store/fetch-incomplete &&
	cairn fsck >out &&
	test_grep "^incomplete: [1-9][0-9]* objects" out &&
	# without that mark, an object the store lacks is a problem
	rm .cairn/store/fetch-incomplete &&
	expect_code 1 cairn fsck >out &&
	test_grep "^missing-object: .* is not in the store; affects .data/" out &&
	cairn fsck --repair >out &&
	test_grep "no problems" out &&
	cairn checkout -q && diff -r data ../saved/6
'

test_expect_success 'a clone that fetched nothing: versions not here are no problem' '
	git clone -q repo bare-clone && cd bare-clone &&
	cairn fsck >out &&
	test_grep "no problems" out &&
	test_grep "not in this store: 6 pointer versions" out
'

test_expect_success 'fsck -r of a good remote, reading every pack' '
	cd repo &&
	cairn fsck -r origin --read-data >out &&
	test_grep "no problems" out &&
	npacks=$(ls "$REMOTE"/packs/*.pack | wc -l) &&
	test_grep "$npacks of $npacks packs read whole" out &&
	cairn fsck -r origin >out &&
	test_grep "1 of $npacks packs read whole" out &&
	cairn fsck -r origin --json >out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert d[\"problems\"] == [] and d[\"remote\"] == \"origin\", d
"
'

test_expect_success 'fsck -r: a flipped byte in a remote pack, found with --read-data' '
	cd repo &&
	rm -rf ../remote.good && cp -a "$REMOTE" ../remote.good &&
	test_when_finished "chmod -R u+w \"$REMOTE\" && rm -rf \"$REMOTE\" && mv \"$TRASH_DIRECTORY/remote.good\" \"$REMOTE\"" &&
	pack=$(chunk_pack "$REMOTE/packs") &&
	idx_entries "$REMOTE/packs/$pack.idx" | grep " 1 [0-9]* [0-9]*\$" | head -n 1 >entry &&
	read oid type off len <entry &&
	flip_byte "$REMOTE/packs/$pack.pack" $((off + 28 + len / 2)) &&
	expect_code 1 cairn fsck -r origin --read-data >out 2>err &&
	test_grep "^corrupt-object: remote .origin.: chunk $oid in pack $pack" out &&
	test_grep "^error: 1 problem on remote .origin." err
'

test_expect_success 'fsck -r: a deleted remote pack, and a damaged index' '
	cd repo &&
	rm -rf ../remote.good && cp -a "$REMOTE" ../remote.good &&
	test_when_finished "chmod -R u+w \"$REMOTE\" && rm -rf \"$REMOTE\" && mv \"$TRASH_DIRECTORY/remote.good\" \"$REMOTE\"" &&
	pack=$(chunk_pack "$REMOTE/packs") &&
	rm -f "$REMOTE/packs/$pack.pack" &&
	expect_code 1 cairn fsck -r origin >out &&
	test_grep "^missing-pack: remote .origin.: pack $pack is missing" out &&
	other=$(meta_pack "$REMOTE/packs") &&
	flip_byte "$REMOTE/packs/$other.idx" 60 &&
	expect_code 1 cairn fsck -r origin --json >out.json &&
	python3 -c "
import json, sys
p = json.load(open(\"out.json\"))[\"problems\"]
kinds = sorted((x[\"kind\"], x[\"pack\"]) for x in p)
assert kinds == sorted([(\"missing-pack\", sys.argv[1]), (\"bad-pack-index\", sys.argv[2])]), kinds
" "$pack" "$other"
'

test_expect_success 'fsck -r of a directory that is no remote: a clear error' '
	cd repo &&
	mkdir ../not-a-remote &&
	cairn remote add --local nothing "$TRASH_DIRECTORY/not-a-remote" &&
	test_must_fail cairn fsck -r nothing 2>err &&
	test_grep "holds no cairn data" err
'

test_done
