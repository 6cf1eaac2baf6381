#!/bin/sh

test_description='cairn checkout: old versions back, local changes kept, symlinks never followed'

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

# same_tree EXPECT ACTUAL: same names, types, bytes, link targets and
# exec bits (diff -r does not look at modes).
same_tree () {
	diff -r --no-dereference "$1" "$2" &&
	(cd "$1" && find . -printf "%y %M %p\n" | sort) >same-tree.expect &&
	(cd "$2" && find . -printf "%y %M %p\n" | sort) >same-tree.actual &&
	test_cmp same-tree.expect same-tree.actual
}

# cmp_files EXPECT ACTUAL FILE...: cmp each file.
cmp_files () {
	cmp_files_e_=$1
	cmp_files_a_=$2
	shift 2
	for cmp_files_f_ in "$@"
	do
		cmp "$cmp_files_e_/$cmp_files_f_" "$cmp_files_a_/$cmp_files_f_" || return 1
	done
}

test_expect_success 'setup: v1 and v2 of a directory and a file, committed' '
	git init -q repo &&
	(
		cd repo &&
		cairn init >/dev/null &&
		mkdir -p data/train/sub data/train/empty models &&
		echo alpha >data/train/a &&
		make_random data/train/b 100000 1 &&
		echo gamma >data/train/sub/c &&
		printf "#!/bin/sh\necho run\n" >data/train/run.sh &&
		chmod 755 data/train/run.sh &&
		ln -s sub/c data/train/link &&
		echo weights-v1 >models/w.bin &&
		cairn add -q data/train models/w.bin &&
		git add -A &&
		git commit -q -m v1
	) &&
	cp -R repo/data/train train.v1 &&
	cp repo/models/w.bin w.bin.v1 &&
	(
		cd repo &&
		echo alpha-v2 >data/train/a &&
		rm data/train/b &&
		echo new >data/train/n &&
		mkdir data/train/sub2 &&
		echo delta >data/train/sub2/d &&
		chmod 644 data/train/run.sh &&
		rm data/train/link &&
		ln -s sub2/d data/train/link &&
		echo weights-v2 >models/w.bin &&
		cairn add -q data/train models/w.bin &&
		git commit -q -a -m v2
	) &&
	cp -R repo/data/train train.v2 &&
	cp repo/models/w.bin w.bin.v2
'

test_expect_success 'the old pointer from git and cairn checkout: the old bytes are back' '
	(
		cd repo &&
		git checkout -q HEAD~1 -- data/train.cairn &&
		cairn checkout >../out 2>../err
	) &&
	test_grep "^data/train: " out &&
	same_tree train.v1 repo/data/train &&
	cmp_files train.v1 repo/data/train a b sub/c run.sh &&
	test -x repo/data/train/run.sh &&
	test "$(readlink repo/data/train/link)" = sub/c &&
	test_path_is_dir repo/data/train/empty
'

test_expect_success 'files the old version lacks are gone' '
	test_path_is_missing repo/data/train/n &&
	test_path_is_missing repo/data/train/sub2
'

test_expect_success 'the file pointer was not named: it is still v2' '
	cmp w.bin.v2 repo/models/w.bin
'

test_expect_success 'checkout of a single file pointer' '
	(
		cd repo &&
		git checkout -q HEAD~1 -- models/w.bin.cairn &&
		cairn checkout models/w.bin.cairn >../out
	) &&
	test_grep "^models/w.bin: 1 written" out &&
	cmp w.bin.v1 repo/models/w.bin
'

test_expect_success 'forward again to v2, naming the data path' '
	(
		cd repo &&
		git checkout -q HEAD -- data/train.cairn models/w.bin.cairn &&
		cairn checkout data/train >../out &&
		cairn checkout models/w.bin >>../out
	) &&
	same_tree train.v2 repo/data/train &&
	! test -x repo/data/train/run.sh &&
	cmp w.bin.v2 repo/models/w.bin
'

test_expect_success 'checkout when everything matches rewrites nothing' '
	ls -i repo/data/train/a repo/models/w.bin >inodes.before &&
	(
		cd repo &&
		cairn checkout >../out 2>../err
	) &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	ls -i repo/data/train/a repo/models/w.bin >inodes.after &&
	test_cmp inodes.before inodes.after
'

test_expect_success 'after rm -rf, checkout with no argument restores everything' '
	rm -rf repo/data/train repo/models/w.bin &&
	(
		cd repo &&
		cairn checkout >../out
	) &&
	same_tree train.v2 repo/data/train &&
	cmp w.bin.v2 repo/models/w.bin
'

test_expect_success 'checkout from a subdirectory' '
	rm -rf repo/data/train &&
	(
		cd repo/models &&
		cairn checkout ../data/train >../../out
	) &&
	same_tree train.v2 repo/data/train &&
	rm -rf repo/data/train repo/models/w.bin &&
	(
		cd repo/data &&
		cairn checkout >../../out
	) &&
	same_tree train.v2 repo/data/train &&
	cmp w.bin.v2 repo/models/w.bin
'

test_expect_success 'a local change that was never added is not overwritten' '
	echo precious >repo/data/train/a &&
	cp repo/data/train/a precious &&
	(
		cd repo &&
		git checkout -q HEAD~1 -- data/train.cairn &&
		test_must_fail cairn checkout >../out 2>../err
	) &&
	test_grep "^error: .data/train/a. has local changes that are not stored$" err &&
	test_grep "force" err &&
	cmp precious repo/data/train/a
'

test_expect_success 'a new local file that was never added is not removed' '
	(
		cd repo &&
		git checkout -q HEAD -- data/train.cairn &&
		cairn checkout -f >/dev/null
	) &&
	echo unsaved >repo/data/train/unsaved &&
	(
		cd repo &&
		git checkout -q HEAD~1 -- data/train.cairn &&
		test_must_fail cairn checkout data/train 2>../err
	) &&
	test_grep "^error: .*data/train/unsaved" err &&
	echo unsaved >expect &&
	test_cmp expect repo/data/train/unsaved
'

test_expect_success 'a local single file that was never added is not overwritten' '
	echo my-own-weights >repo/models/w.bin &&
	(
		cd repo &&
		git checkout -q HEAD~1 -- models/w.bin.cairn &&
		test_must_fail cairn checkout models/w.bin 2>../err
	) &&
	test_grep "^error: .*models/w.bin" err &&
	echo my-own-weights >expect &&
	test_cmp expect repo/models/w.bin
'

test_expect_success '--force overwrites and removes local changes' '
	echo precious >repo/data/train/a &&
	(
		cd repo &&
		cairn checkout --force >../out
	) &&
	same_tree train.v1 repo/data/train &&
	cmp w.bin.v1 repo/models/w.bin
'

test_expect_success 'a change whose content was added before is overwritten without --force' '
	cp train.v2/a repo/data/train/a &&
	cp w.bin.v2 repo/models/w.bin &&
	(
		cd repo &&
		cairn checkout >../out
	) &&
	same_tree train.v1 repo/data/train &&
	cmp w.bin.v1 repo/models/w.bin
'

test_expect_success '--dry-run writes nothing' '
	rm -rf repo/data/train &&
	cp w.bin.v2 repo/models/w.bin &&
	(
		cd repo &&
		cairn checkout --dry-run >../out 2>../err
	) &&
	test_path_is_missing repo/data/train &&
	cmp w.bin.v2 repo/models/w.bin &&
	echo local >repo/models/w.bin &&
	(
		cd repo &&
		cairn checkout --dry-run --force >../out 2>../err
	) &&
	echo local >expect &&
	test_cmp expect repo/models/w.bin
'

test_expect_success '--dry-run still refuses to lose local changes' '
	(
		cd repo &&
		test_must_fail cairn checkout --dry-run models/w.bin 2>../err
	) &&
	test_grep "^error: .*models/w.bin" err
'

test_expect_success '--dry-run says what it would do' '
	(
		cd repo &&
		cairn checkout --dry-run data/train >../out 2>../err
	) &&
	test_grep "^data/train: would write 5, remove 0" out &&
	test_path_is_missing repo/data/train
'

test_expect_success 'restore the work tree to v1' '
	(
		cd repo &&
		cairn checkout -f -q >../out
	) &&
	test_must_be_empty out &&
	same_tree train.v1 repo/data/train &&
	cmp w.bin.v1 repo/models/w.bin
'

test_expect_success 'a tracked directory replaced by a symlink to a directory outside' '
	mkdir canary &&
	echo keep-me >canary/a &&
	echo canary-only >canary/zz &&
	cp -R canary canary.orig &&
	rm -rf repo/data/train &&
	ln -s "$TRASH_DIRECTORY/canary" repo/data/train &&
	(
		cd repo &&
		test_must_fail cairn checkout 2>../err &&
		test_must_fail cairn checkout data/train 2>>../err
	) &&
	test_grep "^error: .*data/train" err &&
	test -h repo/data/train &&
	diff -r canary.orig canary
'

test_expect_success '... with --force the link is replaced, the outside is untouched' '
	(
		cd repo &&
		cairn checkout --force data/train >../out
	) &&
	! test -h repo/data/train &&
	same_tree train.v1 repo/data/train &&
	diff -r canary.orig canary
'

test_expect_success 'a directory inside replaced by a symlink to outside' '
	rm -rf repo/data/train/sub &&
	ln -s "$TRASH_DIRECTORY/canary" repo/data/train/sub &&
	(
		cd repo &&
		test_must_fail cairn checkout 2>../err
	) &&
	test_grep "^error: .*data/train/sub" err &&
	diff -r canary.orig canary &&
	(
		cd repo &&
		cairn checkout -f >../out
	) &&
	diff -r canary.orig canary &&
	test_path_is_missing canary/c &&
	same_tree train.v1 repo/data/train
'

test_expect_success 'a file inside replaced by a symlink to an outside file' '
	echo outside-bytes >outside-file &&
	cp outside-file outside-file.orig &&
	rm repo/data/train/a &&
	ln -s "$TRASH_DIRECTORY/outside-file" repo/data/train/a &&
	(
		cd repo &&
		test_must_fail cairn checkout 2>../err
	) &&
	test_grep "^error: .*data/train/a" err &&
	test_cmp outside-file.orig outside-file &&
	(
		cd repo &&
		cairn checkout -f >../out
	) &&
	test_cmp outside-file.orig outside-file &&
	! test -h repo/data/train/a &&
	same_tree train.v1 repo/data/train
'

test_expect_success 'a tracked path below a symlinked directory is refused' '
	mkdir -p repo/deep/inner &&
	echo deep >repo/deep/inner/f &&
	(
		cd repo &&
		cairn add -q deep/inner
	) &&
	mv repo/deep deep-outside &&
	ln -s "$TRASH_DIRECTORY/deep-outside" repo/deep &&
	rm -rf deep-outside/inner &&
	(
		cd repo &&
		test_must_fail cairn checkout deep/inner 2>../err
	) &&
	test_grep "^error: .*deep" err &&
	test_path_is_missing deep-outside/inner
'

test_expect_success 'checkout of a path that is not tracked fails cleanly' '
	(
		cd repo &&
		test_must_fail cairn checkout no-such-path 2>../err
	) &&
	test_grep "^error: .*no-such-path" err &&
	test_path_is_missing repo/no-such-path
'

test_expect_success 'checkout with an unknown option is a usage error' '
	(
		cd repo &&
		expect_code 129 cairn checkout --frob 2>../err
	) &&
	test_grep "^usage: cairn checkout" err
'

test_done
