#!/bin/sh

test_description='add, remove, checkout: every byte comes back (gen-dataset, chunk boundaries, versions)'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

SCENARIOS="model model-v2 tabular tabular-v2 images images-v2"

# same_tree EXPECT ACTUAL: same names, types, bytes, link targets, modes.
same_tree () {
	diff -r --no-dereference "$1" "$2" &&
	(cd "$1" && find . -printf "%y %M %s %p\n" | sort) >same-tree.expect &&
	(cd "$2" && find . -printf "%y %M %s %p\n" | sort) >same-tree.actual &&
	test_cmp same-tree.expect same-tree.actual
}

test_expect_success 'setup: the six gen-dataset scenarios' '
	"$TEST_DIRECTORY/gen-dataset" --out gen --scale 0.001 -q $SCENARIOS &&
	for s in $SCENARIOS
	do
		test_path_is_dir gen/$s || return 1
	done &&
	find gen -type f ! -path "gen/.manifest/*" >all-files &&
	test_line_count -gt 100 all-files
'

for chunks in default 1K:4K:16K
do
	repo=repo-$chunks
	test_expect_success "setup: a repository with $chunks chunking" '
		git init -q $repo &&
		if test $chunks = default
		then
			(cd $repo && cairn init >/dev/null)
		else
			(cd $repo && cairn init --chunk-size $chunks >/dev/null)
		fi &&
		mkdir $repo/data &&
		for s in $SCENARIOS
		do
			cp -R gen/$s $repo/data/$s || return 1
		done &&
		(
			cd $repo &&
			cairn add -q $(for s in $SCENARIOS; do echo data/$s; done) &&
			git add -A &&
			git commit -q -m data &&
			cairn status >../out
		) &&
		test_grep "^all 6 tracked paths match" out
	'

	for s in $SCENARIOS
	do
		test_expect_success "$chunks chunking: $s round-trips" '
			rm -rf $repo/data/$s &&
			(
				cd $repo &&
				cairn checkout -q data/$s
			) &&
			same_tree gen/$s $repo/data/$s
		'
	done

	test_expect_success "$chunks chunking: everything at once" '
		rm -rf $repo/data/* &&
		(
			cd $repo &&
			git checkout -q -- data &&
			cairn checkout -q &&
			cairn status >../out
		) &&
		for s in $SCENARIOS
		do
			same_tree gen/$s $repo/data/$s || return 1
		done &&
		test_grep "^all 6 tracked paths match" out
	'
done

test_expect_success 'small chunks: files span many chunks' '
	(
		cd repo-1K:4K:16K &&
		cairn stats --json >../small.json
	) &&
	(
		cd repo-default &&
		cairn stats --json >../default.json
	) &&
	test $(json_get small.json chunks) -gt 500 &&
	test $(json_get small.json chunks) -gt $((4 * $(json_get default.json chunks))) &&
	test $(json_get small.json logical_bytes) = $(json_get default.json logical_bytes)
'

test_expect_success 'setup: files of chunk-boundary sizes' '
	git init -q sizes &&
	mkdir -p sizes/dir &&
	for n in 0 1 16383 16384 16385 65536 262143 262144 262145 1048577
	do
		make_random sizes/dir/f$n $n $n &&
		cp sizes/dir/f$n sizes/f$n || return 1
	done &&
	cp -R sizes/dir sizes-dir.orig &&
	(
		cd sizes &&
		cairn init >/dev/null &&
		cairn add -q dir f0 f1 f16383 f16384 f16385 f65536 f262143 f262144 \
			f262145 f1048577
	)
'

test_expect_success 'the pointers give the right sizes' '
	for n in 0 1 16383 16384 16385 65536 262143 262144 262145 1048577
	do
		echo "size: $n" >expect &&
		grep "^size: " sizes/f$n.cairn >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'chunk-boundary sizes round-trip in a directory' '
	rm -rf sizes/dir &&
	(
		cd sizes &&
		cairn checkout -q dir
	) &&
	same_tree sizes-dir.orig sizes/dir &&
	for n in 0 1 16383 16384 16385 65536 262143 262144 262145 1048577
	do
		cmp sizes-dir.orig/f$n sizes/dir/f$n || return 1
	done
'

test_expect_success 'chunk-boundary sizes round-trip as single files' '
	for n in 0 1 16383 16384 16385 65536 262143 262144 262145 1048577
	do
		rm sizes/f$n || return 1
	done &&
	(
		cd sizes &&
		cairn checkout -q
	) &&
	for n in 0 1 16383 16384 16385 65536 262143 262144 262145 1048577
	do
		test_path_is_file sizes/f$n &&
		cmp sizes-dir.orig/f$n sizes/f$n || return 1
	done
'

test_expect_success 'a file of one repeated byte (maximal chunks, best compression)' '
	python3 -c "import sys; sys.stdout.buffer.write(b\"\\0\" * 1000001)" >sizes/zeros &&
	cp sizes/zeros zeros.orig &&
	(
		cd sizes &&
		cairn add -q zeros &&
		rm zeros &&
		cairn checkout -q zeros
	) &&
	cmp zeros.orig sizes/zeros
'

# v1 -> v2 -> v1 with git: the pointer in git decides which bytes appear.
for pair in model:model-v2 tabular:tabular-v2 images:images-v2
do
	v1=${pair%%:*}
	v2=${pair#*:}
	test_expect_success "versions: $v1, then $v2, then $v1 again from git" '
		git init -q ver-$v1 &&
		mkdir ver-$v1/data &&
		cp -Rp gen/$v1 ver-$v1/data/set &&
		(
			cd ver-$v1 &&
			cairn init --chunk-size 1K:4K:16K >/dev/null &&
			cairn add -q data/set &&
			git add -A &&
			git commit -q -m v1 &&
			cairn stats --json >../$v1-stats1
		) &&
		rm -rf ver-$v1/data/set &&
		cp -Rp gen/$v2 ver-$v1/data/set &&
		(
			cd ver-$v1 &&
			cairn add -q data/set &&
			git commit -q -a -m v2 &&
			cairn stats --json >../$v1-stats2 &&
			git checkout -q HEAD~1 -- data/set.cairn &&
			cairn checkout -q &&
			cairn status >../out
		) &&
		same_tree gen/$v1 ver-$v1/data/set &&
		test_grep "^the tracked path matches" out &&
		(
			cd ver-$v1 &&
			git checkout -q HEAD -- data/set.cairn &&
			cairn checkout -q
		) &&
		same_tree gen/$v2 ver-$v1/data/set
	'
done

test_expect_success 'in place: v2 copied over v1 (same sizes, new mtimes) is seen' '
	git init -q inplace &&
	mkdir inplace/data &&
	cp -Rp gen/model inplace/data/m &&
	(
		cd inplace &&
		cairn init >/dev/null &&
		cairn add -q data/m &&
		git add -A &&
		git commit -q -m v1
	) &&
	cp -p gen/model-v2/* inplace/data/m/ &&
	(
		cd inplace &&
		cairn status >../out &&
		cairn add -q data/m &&
		git commit -q -a -m v2 &&
		git checkout -q HEAD~1 -- data/m.cairn &&
		cairn checkout -q
	) &&
	test_grep "^modified: data/m" out &&
	test_grep "^    modified  data/m/model-0000" out &&
	same_tree gen/model inplace/data/m
'

test_expect_success 'a new version stores only what changed (small chunks)' '
	for v in model images
	do
		u1=$(json_get $v-stats1 unique_bytes) &&
		u2=$(json_get $v-stats2 unique_bytes) &&
		size=$(json_get $v-stats2 logical_bytes) &&
		test $((u2 - u1)) -gt 0 &&
		test $((u2 - u1)) -lt $((size / 4)) || return 1
	done &&
	u1=$(json_get tabular-stats1 unique_bytes) &&
	u2=$(json_get tabular-stats2 unique_bytes) &&
	size=$(json_get tabular-stats2 logical_bytes) &&
	test $((u2 - u1)) -lt $((size / 2))
'

test_done
