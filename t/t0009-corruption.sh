#!/bin/sh

test_description='a damaged store: checkout fails loudly and never writes wrong bytes'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# largest_pack: the biggest pack file of the store (run in repo).
largest_pack () {
	ls -S .cairn/store/packs/*.pack | head -n 1
}

smallest_pack () {
	ls -S .cairn/store/packs/*.pack | tail -n 1
}

# restore_store: put back the store saved after the add.
restore_store () {
	rm -rf repo/.cairn/store &&
	cp -R store.good repo/.cairn/store
}

# absent_or_correct ORIG DIR: every file under DIR is one of ORIG and has
# its bytes; files may be missing, never wrong (and no temp files left).
absent_or_correct () {
	(cd "$2" && find . ! -type d | sort) >aoc.actual &&
	(cd "$1" && find . ! -type d | sort) >aoc.expect &&
	{ comm -23 aoc.actual aoc.expect >aoc.extra || :; } &&
	test_must_be_empty aoc.extra &&
	while read aoc_f_
	do
		cmp "$1/$aoc_f_" "$2/$aoc_f_" || return 1
	done <aoc.actual
}

test_expect_success 'setup' '
	git init -q repo &&
	mkdir -p repo/d/sub &&
	# big: over 1 MiB and dozens of chunks, so checkout decodes it on
	# helper threads ahead of the writer (core.threads 4 on any machine)
	make_random repo/d/big 3000000 1 &&
	echo small >repo/d/small &&
	make_random repo/d/sub/mid 50000 2 &&
	(
		cd repo &&
		cairn init >/dev/null &&
		cairn config core.threads 4 &&
		cairn add -q d &&
		git add -A &&
		git commit -q -m d
	) &&
	cp -R repo/d d.orig &&
	cp -R repo/.cairn/store store.good &&
	ls repo/.cairn/store/packs/*.pack >packs &&
	test_line_count -ge 1 packs
'

test_expect_success 'a flipped byte in the middle of a pack: error naming the file, nothing wrong written' '
	test_when_finished "restore_store" &&
	(
		cd repo &&
		p=$(largest_pack) &&
		flip_byte $p $(($(size_of $p) / 2)) &&
		rm -rf d &&
		test_must_fail cairn checkout >../out 2>../err
	) &&
	test_grep "^error: .*d/big" err &&
	test_path_is_missing repo/d/big &&
	absent_or_correct d.orig repo/d &&
	cmp d.orig/small repo/d/small &&
	cmp d.orig/sub/mid repo/d/sub/mid
'

test_expect_success '... and status does not claim the data matches' '
	(
		cd repo &&
		cairn status >../out
	) &&
	test_grep "^modified: d" out &&
	test_grep "deleted *d/big" out
'

test_expect_success 'with the store repaired, checkout brings the file back' '
	(
		cd repo &&
		cairn checkout >../out
	) &&
	diff -r d.orig repo/d
'

test_expect_success 'a damaged pack does not replace a good older file' '
	echo weights-v1 >repo/w.bin &&
	(
		cd repo &&
		cairn add -q w.bin &&
		git add -A &&
		git commit -q -m w1 &&
		ls .cairn/store/packs/*.pack | sort >../packs-before
	) &&
	make_random repo/w.bin 300000 3 &&
	cp repo/w.bin w.bin.v2 &&
	(
		cd repo &&
		cairn add -q w.bin &&
		git commit -q -a -m w2 &&
		ls .cairn/store/packs/*.pack | sort >../packs-after
	) &&
	rm -rf store.good &&
	cp -R repo/.cairn/store store.good &&
	comm -13 packs-before packs-after >new-packs &&
	test_line_count -ge 1 new-packs &&
	(
		cd repo &&
		p=$(ls -S $(cat ../new-packs) | head -n 1) &&
		flip_byte $p $(($(size_of $p) / 2)) &&
		git checkout -q HEAD~1 -- w.bin.cairn &&
		cairn checkout -q w.bin &&
		echo weights-v1 >../expect &&
		test_cmp ../expect w.bin &&
		git checkout -q HEAD -- w.bin.cairn &&
		test_must_fail cairn checkout w.bin 2>../err
	) &&
	test_grep "^error: .*w\.bin" err &&
	echo weights-v1 >expect &&
	test_cmp expect repo/w.bin
'

test_expect_success '... and with the file gone, nothing is written' '
	rm repo/w.bin &&
	(
		cd repo &&
		test_must_fail cairn checkout w.bin 2>../err &&
		ls -A >../top-files
	) &&
	test_grep "^error: .*w\.bin" err &&
	test_path_is_missing repo/w.bin &&
	test_grep ! "cairn-tmp" top-files &&
	restore_store &&
	(
		cd repo &&
		cairn checkout -q w.bin
	) &&
	cmp w.bin.v2 repo/w.bin
'

test_expect_success 'a deleted pack: checkout fails with errors, nothing wrong written' '
	test_when_finished "restore_store" &&
	(
		cd repo &&
		rm -f $(largest_pack) &&
		rm -rf d &&
		test_must_fail cairn checkout d >../out 2>../err
	) &&
	test_grep "^error: .*d/" err &&
	absent_or_correct d.orig repo/d
'

test_expect_success 'every pack deleted: checkout fails cleanly' '
	test_when_finished "restore_store" &&
	(
		cd repo &&
		rm -f .cairn/store/packs/*.pack &&
		rm -rf d w.bin &&
		test_must_fail cairn checkout >../out 2>../err
	) &&
	test_grep "^error: .*d" err &&
	test_grep "^error: .*w\.bin" err &&
	test_path_is_missing repo/w.bin &&
	if test -e repo/d
	then
		absent_or_correct d.orig repo/d
	fi
'

test_expect_success 'a truncated pack: checkout fails with errors, nothing wrong written' '
	test_when_finished "restore_store" &&
	(
		cd repo &&
		p=$(largest_pack) &&
		chmod u+w $p &&
		truncate -s $(($(size_of $p) / 2)) $p &&
		rm -rf d &&
		test_must_fail cairn checkout d >../out 2>../err
	) &&
	test_grep "^error: .*d/" err &&
	absent_or_correct d.orig repo/d
'

test_expect_success 'a pack truncated to its header, or to nothing' '
	test_when_finished "restore_store" &&
	for len in 16 10 0
	do
		(
			cd repo &&
			p=$(largest_pack) &&
			chmod u+w $p &&
			truncate -s $len $p &&
			rm -rf d &&
			test_must_fail cairn checkout d >../out 2>../err
		) &&
		test_grep "^error: " err &&
		if test -e repo/d
		then
			absent_or_correct d.orig repo/d
		fi &&
		restore_store || return 1
	done
'

test_expect_success 'a damaged pack header: never a wrong byte' '
	test_when_finished "restore_store" &&
	for off in 0 7 8 12 15
	do
		(
			cd repo &&
			flip_byte $(largest_pack) $off &&
			rm -rf d &&
			test_might_fail cairn checkout d >../out 2>../err
		) &&
		if test -e repo/d
		then
			absent_or_correct d.orig repo/d
		fi &&
		restore_store || return 1
	done
'

test_expect_success 'a pack with a bad magic or an unknown version is refused' '
	test_when_finished "restore_store" &&
	(
		cd repo &&
		flip_byte $(largest_pack) 0 &&
		rm -rf d &&
		test_must_fail cairn checkout d 2>../err
	) &&
	test_grep "^error: " err &&
	restore_store &&
	(
		cd repo &&
		p=$(largest_pack) &&
		chmod u+w $p &&
		printf "\002" | dd of=$p bs=1 seek=8 conv=notrunc 2>/dev/null &&
		rm -rf d &&
		test_must_fail cairn checkout d 2>../err
	) &&
	test_grep "^error: .*version" err
'

# check_flips PACK-CHOOSER: flip one byte at 16 offsets spread over the
# pack (one at a time); each checkout must fail cleanly or succeed, and
# never write a wrong byte.
check_flips () {
	check_flips_n_=$(cd repo && size_of $($1)) &&
	for check_flips_i_ in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
	do
		check_flips_off_=$((16 + (check_flips_n_ - 17) * check_flips_i_ / 15)) &&
		(
			cd repo &&
			flip_byte $($1) $check_flips_off_ &&
			rm -rf d &&
			test_might_fail cairn checkout -q d 2>../err
		) &&
		if test -e repo/d
		then
			absent_or_correct d.orig repo/d
		fi &&
		restore_store || {
			echo "check_flips: failed at offset $check_flips_off_" >&8
			return 1
		}
	done
}

test_expect_success 'flips all over the data pack: never a wrong byte' '
	test_when_finished "restore_store" &&
	check_flips largest_pack
'

test_expect_success 'flips all over the smallest pack (trees, manifests): never a wrong byte' '
	test_when_finished "restore_store" &&
	check_flips smallest_pack
'

test_expect_success 'a flipped byte in a pack index file: never a wrong byte' '
	test_when_finished "restore_store" &&
	for idx in repo/.cairn/store/packs/*.idx
	do
		flip_byte $idx $(($(size_of $idx) / 2)) &&
		rm -rf repo/d &&
		(
			cd repo &&
			test_might_fail cairn checkout -q d
		) &&
		if test -e repo/d
		then
			absent_or_correct d.orig repo/d
		fi &&
		restore_store || return 1
	done
'

test_expect_success 'after all that, the repaired store still checks out' '
	rm -rf repo/d repo/w.bin &&
	(
		cd repo &&
		cairn checkout -q &&
		cairn status >../out
	) &&
	diff -r d.orig repo/d &&
	cmp w.bin.v2 repo/w.bin &&
	test_grep "^all 2 tracked paths match" out
'

test_done
