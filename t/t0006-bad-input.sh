#!/bin/sh

test_description='malformed pointer files and pointers to data the store lacks'

. "$(dirname "$0")/lib.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# data_state DIR...: names, types, modes, sizes, inodes and mtimes of
# everything below DIR: any write or removal changes it.
data_state () {
	for data_state_d_ in "$@"
	do
		if test -e "$data_state_d_" || test -h "$data_state_d_"
		then
			find "$data_state_d_" -printf "%i %y %M %s %T@ %p\n" | sort
		else
			echo "absent $data_state_d_"
		fi
	done
}

# bad_pointer VARIANT: write a malformed d.cairn (in repo) from the good one.
bad_pointer () {
	case $1 in
	garbage) echo "this is not a pointer" ;;
	empty) : ;;
	truncated) head -c 100 good.cairn ;;
	no-version|no-type|no-hash|no-id|no-sha256|no-size|no-files)
		grep -v "^${1#no-}: " good.cairn ;;
	id-short) sed "s/^\(id: .*\).$/\1/" good.cairn ;;
	id-long) sed "s/^\(id: .*\)$/\1a/" good.cairn ;;
	id-nonhex) sed "s/^\(id: .*\).$/\1g/" good.cairn ;;
	id-upper) sed "s/^id: .*/id: $(sed -n "s/^id: //p" good.cairn | tr a-f A-F)/" good.cairn ;;
	id-empty) sed "s/^id: .*/id: /" good.cairn ;;
	sha-short) sed "s/^\(sha256: .*\).$/\1/" good.cairn ;;
	sha-upper) sed "s/^sha256: .*/sha256: $(sed -n "s/^sha256: //p" good.cairn | tr a-f A-F)/" good.cairn ;;
	version-2) sed "s/^version: 1$/version: 2/" good.cairn ;;
	version-0) sed "s/^version: 1$/version: 0/" good.cairn ;;
	unknown-key) cat good.cairn && echo "colour: blue" ;;
	repeated-key) cat good.cairn && grep "^size: " good.cairn ;;
	type-bad) sed "s/^type: dir$/type: blob/" good.cairn ;;
	hash-bad) sed "s/^hash: .*/hash: sha1/" good.cairn ;;
	size-negative) sed "s/^size: .*/size: -1/" good.cairn ;;
	size-junk) sed "s/^size: .*/size: 12abc/" good.cairn ;;
	size-huge) sed "s/^size: .*/size: 99999999999999999999999/" good.cairn ;;
	dir-with-mode) cat good.cairn && echo "mode: 644" ;;
	oversized)
		cat good.cairn &&
		python3 -c "import sys; sys.stdout.write(\"#\" * 5000 + \"\\n\")" ;;
	nul) printf "# \000\n" && cat good.cairn ;;
	nul-in-value) sed "s/^type: dir$/type: d\x00ir/" good.cairn ;;
	binary)
		python3 -c "
import random, sys
sys.stdout.buffer.write(random.Random(3).randbytes(300))
" ;;
	*) BUG "unknown variant $1" ;;
	esac >d.cairn
}

# check_bad_pointer: with a bad d.cairn, status, checkout and ls fail
# cleanly with exactly one error line naming d.cairn, and the data (d and
# w.bin) stays as it is. Run in repo.
check_bad_pointer () {
	data_state d w.bin >../data-before &&
	for c in "status d.cairn" "status d" "status" "status --json d" \
		"checkout d.cairn" "checkout d" "checkout" "checkout --force" \
		"ls d.cairn" "ls d" "ls --json d"
	do
		test_must_fail cairn $c >../out 2>../err &&
		{ grep "^error: " ../err >../errors || :; } &&
		test_line_count = 1 ../errors &&
		test_grep "d\.cairn" ../errors &&
		data_state d w.bin >../data-after &&
		test_cmp ../data-before ../data-after || return 1
	done
}

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		cairn init >/dev/null &&
		mkdir -p d/sub &&
		echo one >d/f &&
		echo two >d/sub/g &&
		echo weights >w.bin &&
		cairn add -q d w.bin &&
		git add -A &&
		git commit -q -m v1 &&
		cp d.cairn good.cairn &&
		cp w.bin.cairn good-w.cairn
	) &&
	cp -R repo/d d.orig &&
	cp repo/w.bin w.bin.orig
'

for variant in garbage empty truncated no-version no-type no-hash no-id \
	no-sha256 no-size no-files id-short id-long id-nonhex id-upper id-empty \
	sha-short sha-upper version-2 version-0 unknown-key repeated-key \
	type-bad hash-bad size-negative size-junk size-huge dir-with-mode \
	oversized nul nul-in-value binary
do
	test_expect_success "malformed pointer ($variant): one clean error, data untouched" '
		test_when_finished "cp repo/good.cairn repo/d.cairn" &&
		(
			cd repo &&
			bad_pointer $variant &&
			check_bad_pointer
		)
	'
done

test_expect_success 'the error for version 2 says to upgrade' '
	(
		cd repo &&
		bad_pointer version-2 &&
		test_must_fail cairn status d 2>../err &&
		cp good.cairn d.cairn
	) &&
	test_grep "^error: .*d\.cairn.*version 2" err
'

test_expect_success 'a malformed pointer with the data gone: checkout writes nothing' '
	rm -rf repo/d &&
	(
		cd repo &&
		bad_pointer id-nonhex &&
		test_must_fail cairn checkout 2>../err &&
		test_must_fail cairn checkout d 2>>../err &&
		cp good.cairn d.cairn
	) &&
	test_path_is_missing repo/d &&
	test_grep "^error: .*d\.cairn" err &&
	(
		cd repo &&
		cairn checkout -q
	) &&
	diff -r d.orig repo/d
'

test_expect_success 'a pointer of exactly 4 KiB is fine, one byte more is not' '
	(
		cd repo &&
		n=$(wc -c <good.cairn) &&
		{
			cat good.cairn &&
			python3 -c "import sys; sys.stdout.write(\"#\" * ($((4096 - n)) - 1) + \"\\n\")"
		} >d.cairn &&
		test $(wc -c <d.cairn) = 4096 &&
		cairn status d >../out &&
		echo "#" >>d.cairn &&
		test_must_fail cairn status d 2>../err &&
		cp good.cairn d.cairn
	) &&
	test_grep "^error: .*d\.cairn" err
'

test_expect_success 'malformed file pointers' '
	test_when_finished "cp repo/good-w.cairn repo/w.bin.cairn" &&
	(
		cd repo &&
		for v in mode-777 mode-link files-on-file type-dir-no-files
		do
			case $v in
			mode-777) sed "s/^mode: .*/mode: 777/" good-w.cairn ;;
			mode-link) sed "s/^mode: .*/mode: 120000/" good-w.cairn ;;
			files-on-file) cat good-w.cairn && echo "files: 1" ;;
			type-dir-no-files) sed "s/^type: file$/type: dir/" good-w.cairn ;;
			esac >w.bin.cairn &&
			data_state d w.bin >../data-before &&
			for c in "status w.bin" "checkout w.bin" "ls w.bin"
			do
				test_must_fail cairn $c >../out 2>../err &&
				{ grep "^error: " ../err >../errors || :; } &&
				test_line_count = 1 ../errors &&
				test_grep "w\.bin\.cairn" ../errors || return 1
			done &&
			data_state d w.bin >../data-after &&
			test_cmp ../data-before ../data-after || return 1
		done
	)
'

test_expect_success 'a second, good pointer is still handled' '
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		bad_pointer garbage &&
		rm w.bin &&
		test_must_fail cairn checkout 2>../err
	) &&
	cmp w.bin.orig repo/w.bin &&
	test_grep "^error: .*d\.cairn" err
'

# A pointer file's name comes from git, not from the user: "...cairn"
# stands for the path "..", "sub/.git.cairn" for "sub/.git".
test_expect_success 'pointers named for ., .., .git, .cairn: checkout -f refuses them, writes nothing' '
	(
		cd repo &&
		cp -R .git ../git.orig && cp .cairn/config ../config.orig &&
		: >../parent-after && ls -A .. >../parent-before &&
		for name in ..cairn ...cairn .git.cairn .GIT.cairn .git..cairn git~1.cairn \
			sub/.git.cairn sub/..cairn .cairn.cairn "$(printf ".\342\200\214git.cairn")"
		do
			mkdir -p sub && cp good.cairn "$name" &&
			test_must_fail cairn checkout -f >../out 2>../err &&
			test_grep "^error: refusing to write .*forbidden path component" ../err &&
			test_must_fail cairn checkout -f "$name" 2>../err &&
			test_grep "^error: refusing to write" ../err &&
			rm -rf "$name" sub || return 1
		done &&
		ls -A .. >../parent-after &&
		test_cmp ../parent-before ../parent-after &&
		diff -r ../git.orig .git &&
		test_cmp ../config.orig .cairn/config &&
		cairn fsck -q
	) &&
	diff -r d.orig repo/d &&
	cmp w.bin.orig repo/w.bin
'

# (status --json used to write {"paths":[,{...}]} here.)
test_expect_success 'status --json with a malformed pointer is still JSON' '
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		bad_pointer garbage &&
		test_must_fail cairn status --json >../out 2>../err
	) &&
	test_grep "^error: .*d\.cairn" err &&
	python3 -c "
import json, sys
d = json.load(sys.stdin)
good = [p for p in d[\"paths\"] if p[\"path\"] == \"w.bin\"]
assert len(good) == 1 and good[0][\"state\"] == \"clean\", d
" <out
'

# fake_id POINTER: the pointer with an id (and sha256) the store lacks.
fake_id () {
	sed -e "s/^id: .*/id: 0123456789abcdef0123456789abcdef/" \
	    -e "s/^sha256: .*/sha256: $(printf "%064d" 0)/" "$1"
}

test_expect_success 'a directory pointer to an id not in the store: checkout fails, data untouched' '
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		fake_id good.cairn >d.cairn &&
		data_state d w.bin >../data-before &&
		test_must_fail cairn checkout 2>../err1 &&
		test_must_fail cairn checkout --force d 2>../err2 &&
		data_state d w.bin >../data-after
	) &&
	test_grep "^error: .*'\''d'\''.*not in the store" err1 &&
	test_grep "^error: .*not in the store" err2 &&
	test_cmp data-before data-after
'

test_expect_success '... and with the data gone, nothing is written' '
	rm -rf repo/d &&
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		fake_id good.cairn >d.cairn &&
		test_must_fail cairn checkout d 2>../err &&
		ls -A >../top-files
	) &&
	test_grep "^error: " err &&
	test_path_is_missing repo/d &&
	test_grep ! "cairn-tmp" top-files &&
	(
		cd repo &&
		cp good.cairn d.cairn &&
		cairn checkout -q d
	) &&
	diff -r d.orig repo/d
'

test_expect_success '... status says the version is not in the store' '
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		fake_id good.cairn >d.cairn &&
		cairn status d >../out
	) &&
	test_grep "^modified: d" out &&
	test_grep "not in the local store" out
'

test_expect_success '... ls fails with an error naming the tracked path' '
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		fake_id good.cairn >d.cairn &&
		test_must_fail cairn ls d >../out 2>../err
	) &&
	test_grep "^error: " err &&
	test_grep ! "'\'''\''" err &&
	test_grep -e "'\''d'\''" -e "d\.cairn" err &&
	test_must_be_empty out
'

test_expect_success 'a file pointer to an id not in the store: nothing written' '
	rm repo/w.bin &&
	test_when_finished "cp repo/good-w.cairn repo/w.bin.cairn" &&
	(
		cd repo &&
		fake_id good-w.cairn >w.bin.cairn &&
		test_must_fail cairn checkout w.bin 2>../err &&
		ls -A >../top-files &&
		ls -A .cairn/store/tmp >../store-tmp
	) &&
	test_grep "^error: .*w\.bin" err &&
	test_path_is_missing repo/w.bin &&
	test_grep ! "cairn-tmp" top-files &&
	test_must_be_empty store-tmp
'

test_expect_success '... and an existing stored file stays as it is' '
	cp w.bin.orig repo/w.bin &&
	data_state repo/w.bin >before &&
	test_when_finished "cp repo/good-w.cairn repo/w.bin.cairn" &&
	(
		cd repo &&
		fake_id good-w.cairn >w.bin.cairn &&
		test_must_fail cairn checkout w.bin 2>../err
	) &&
	data_state repo/w.bin >after &&
	test_cmp before after &&
	test_grep "^error: .*w\.bin" err
'

test_expect_success '... and a directory in its place is not removed' '
	test_when_finished "cp repo/good-w.cairn repo/w.bin.cairn && rm -rf repo/w.bin && cp w.bin.orig repo/w.bin" &&
	(
		cd repo &&
		rm w.bin &&
		cp -R d w.bin &&
		fake_id good-w.cairn >w.bin.cairn &&
		data_state w.bin >../before &&
		test_must_fail cairn checkout w.bin 2>../err &&
		data_state w.bin >../after
	) &&
	test_grep "^error: .*w\.bin" err &&
	test_cmp before after
'

test_expect_success 'a clone without the store: checkout fails cleanly, writes nothing' '
	git clone -q repo clone &&
	test_path_is_file clone/.cairn/config &&
	test_path_is_missing clone/.cairn/store &&
	(
		cd clone &&
		test_must_fail cairn checkout >../out 2>../err
	) &&
	test_grep "^error: .*d" err &&
	test_grep "^error: .*w\.bin" err &&
	test_path_is_missing clone/d &&
	test_path_is_missing clone/w.bin
'

test_expect_success 'a directory pointer whose size disagrees with its tree' '
	test_when_finished "cp repo/good.cairn repo/d.cairn" &&
	(
		cd repo &&
		sed "s/^size: .*/size: 999/" good.cairn >d.cairn &&
		if cairn checkout d 2>../err
		then
			cairn status d >../out &&
			test_grep ! "modified" ../out
		else
			test_grep "^error: .*d\.cairn" ../err
		fi
	)
'

test_done
