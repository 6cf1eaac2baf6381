#!/bin/sh

test_description='several cairn processes at once in one repository'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# Nothing here waits for a time or sleeps: the processes are started
# together and waited for; the checks hold whatever order they ran in.

# bg_start NAME DIR CMD...: run CMD in DIR in the background, output in
# NAME.out and NAME.err (in the trash directory).
bg_start () {
	bg_name_=$1
	bg_dir_=$2
	shift 2
	(cd "$bg_dir_" && exec "$@") >"$TRASH_DIRECTORY/$bg_name_.out" \
		2>"$TRASH_DIRECTORY/$bg_name_.err" &
	eval "bg_pid_$bg_name_=\$!"
}

# bg_wait NAME...: wait for each; fail unless every one exited 0.
bg_wait () {
	bg_wait_ret_=0
	for bg_name_ in "$@"
	do
		eval "wait \$bg_pid_$bg_name_"
		bg_status_=$?
		if test $bg_status_ != 0
		then
			echo "bg_wait: '$bg_name_' exited $bg_status_:" >&8
			cat "$TRASH_DIRECTORY/$bg_name_.err" >&8
			bg_wait_ret_=1
		fi
	done
	return $bg_wait_ret_
}

# new_repo NAME: a git repository with cairn and the data sets in data/.
new_repo () {
	git init -q "$1" &&
	(cd "$1" && cairn init --chunk-size 1K:4K:16K >/dev/null) &&
	mkdir "$1/data" &&
	for new_repo_s_ in model model-v2 tabular images
	do
		cp -R "gen/$new_repo_s_" "$1/data/$new_repo_s_" || return 1
	done
}

# check_clone REPO PATH...: commit the pointers, clone REPO, give the
# clone a copy of the store, check out there, and compare each PATH (a
# scenario name under data/) with the generated data.
check_clone () {
	check_clone_r_=$1
	shift
	(
		cd "$check_clone_r_" &&
		git add .cairn data/*.cairn &&
		git commit -q -m "data" &&
		cairn status >status.out &&
		grep "match" status.out
	) &&
	rm -rf "$check_clone_r_-clone" &&
	git clone -q "$check_clone_r_" "$check_clone_r_-clone" &&
	cp -R "$check_clone_r_/.cairn/store" "$check_clone_r_-clone/.cairn/store" &&
	(
		cd "$check_clone_r_-clone" &&
		cairn checkout -q
	) &&
	for check_clone_s_ in "$@"
	do
		diff -r "gen/$check_clone_s_" "$check_clone_r_-clone/data/$check_clone_s_" ||
			return 1
	done
}

test_expect_success 'setup: data' '
	"$TEST_DIRECTORY/gen-dataset" --out gen --scale 0.001 -q \
		model model-v2 tabular images
'

test_expect_success 'two adds at once, different data' '
	new_repo two &&
	bg_start a1 two cairn add -q data/model &&
	bg_start a2 two cairn add -q data/tabular &&
	bg_wait a1 a2 &&
	test_must_be_empty a1.err &&
	test_must_be_empty a2.err &&
	test_path_is_file two/data/model.cairn &&
	test_path_is_file two/data/tabular.cairn &&
	check_clone two model tabular
'

test_expect_success 'two adds at once, the same path' '
	new_repo same &&
	bg_start b1 same cairn add -q data/images &&
	bg_start b2 same cairn add -q data/images &&
	bg_wait b1 b2 &&
	check_clone same images
'

test_expect_success 'two adds at once, data sharing most chunks' '
	new_repo shared &&
	bg_start c1 shared cairn add -q data/model &&
	bg_start c2 shared cairn add -q data/model-v2 &&
	bg_wait c1 c2 &&
	check_clone shared model model-v2
'

test_expect_success 'four adds at once, different and overlapping data' '
	new_repo four &&
	bg_start d1 four cairn add -q data/model &&
	bg_start d2 four cairn add -q data/model-v2 &&
	bg_start d3 four cairn add -q data/tabular data/images &&
	bg_start d4 four cairn add -q data/model &&
	bg_wait d1 d2 d3 d4 &&
	check_clone four model model-v2 tabular images
'

test_expect_success 'the index after concurrent adds equals the one of a serial add' '
	new_repo serial &&
	(
		cd serial &&
		cairn add -q data/model &&
		cairn add -q data/model-v2 &&
		cairn add -q data/tabular data/images &&
		cairn stats --json >../serial.json
	) &&
	(
		cd four &&
		cairn stats --json >../four.json
	) &&
	for k in chunks manifests trees unique_bytes logical_bytes tracked_paths
	do
		test $(json_get serial.json $k) = $(json_get four.json $k) || return 1
	done
'

test_expect_success 'pointers after concurrent adds equal those of a serial add' '
	for s in model model-v2 tabular images
	do
		test_cmp serial/data/$s.cairn four/data/$s.cairn || return 1
	done
'

test_expect_success 'add and status at once' '
	new_repo mixed &&
	(
		cd mixed &&
		cairn add -q data/model
	) &&
	bg_start e1 mixed cairn add -q data/tabular &&
	bg_start e2 mixed cairn status &&
	bg_start e3 mixed cairn status --json &&
	bg_wait e1 e2 e3 &&
	python3 -c "import json, sys; json.load(sys.stdin)" <e3.out &&
	check_clone mixed model tabular
'

test_expect_success 'two checkouts at once, different paths' '
	rm -rf four-clone/data/model four-clone/data/images &&
	bg_start f1 four-clone cairn checkout -q data/model &&
	bg_start f2 four-clone cairn checkout -q data/images &&
	bg_wait f1 f2 &&
	diff -r gen/model four-clone/data/model &&
	diff -r gen/images four-clone/data/images
'

RUNS=${CAIRN_TEST_CONC_RUNS:-4}

test_expect_success "two and four adds of overlapping data at once, $RUNS runs each" '
	for run in $(test_seq 1 $RUNS)
	do
		rm -rf conc && new_repo conc &&
		if test $((run % 2)) = 1
		then
			bg_start c1 conc cairn add -q data/model data/tabular &&
			bg_start c2 conc cairn add -q data/model-v2 data/tabular &&
			bg_wait c1 c2 &&
			(cd conc && cairn add -q data/images)
		else
			bg_start c1 conc cairn add -q data/model &&
			bg_start c2 conc cairn add -q data/model-v2 &&
			bg_start c3 conc cairn add -q data/tabular data/model &&
			bg_start c4 conc cairn add -q data/images data/model-v2 &&
			bg_wait c1 c2 c3 c4
		fi &&
		(
			cd conc && cairn fsck -q && cairn stats --json >../conc.json &&
			for s in model model-v2 tabular images
			do
				test_cmp ../serial/data/$s.cairn data/$s.cairn || return 1
			done
		) &&
		# each chunk indexed once: the same counts as the serial add
		for k in chunks manifests trees unique_bytes
		do
			test $(json_get serial.json $k) = $(json_get conc.json $k) || return 1
		done || { echo "run $run"; return 1; }
	done &&
	echo "concurrent adds: $RUNS runs (two and four processes), 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'setup: many small directories in one parent' '
	git init -q sib &&
	(cd sib && cairn init >/dev/null) &&
	for i in 1 2 3 4
	do
		mkdir -p sib/p/d$i &&
		echo $i >sib/p/d$i/f || return 1
	done
'

test_expect_success 'four adds at once in one parent: every .gitignore line is kept' '
	for round in 1 2 3 4 5 6 7 8 9 10
	do
		rm -f sib/p/.gitignore sib/p/*.cairn &&
		bg_start g1 sib cairn add -q p/d1 &&
		bg_start g2 sib cairn add -q p/d2 &&
		bg_start g3 sib cairn add -q p/d3 &&
		bg_start g4 sib cairn add -q p/d4 &&
		bg_wait g1 g2 g3 g4 &&
		sort sib/p/.gitignore >actual &&
		printf "/d1\n/d2\n/d3\n/d4\n" >expect &&
		test_cmp expect actual || return 1
	done
'

test_done
