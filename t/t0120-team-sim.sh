#!/bin/sh

test_description='team simulator: three clones, one remote, random operations, a model

Three clones of one bare git origin share one cairn remote and run seeded
random sequences of operations (edits and add of small and ~1 MiB files,
commit, branch, switch, merge, git push/pull/fetch with and without
--prune, forced pushes, tags, branch deletion, cairn push/pull/fetch/
checkout, local gc, and kill -9 in the middle of any cairn command)
against a model of the bytes every pointer version must give and of what
the remote and each store must hold (t/sim/team-sim.py says the rules;
so does Documentation/technical/reliability.md). After each sequence a
fresh clone pulls every branch and tag of the origin and some older
commits byte for byte, fsck -r of the remote and fsck of every clone are
clean, and each clone can still push all of its history.

CAIRN_TEST_SIM_RUNS sequences per remote (default 30), on the remotes of
CAIRN_TEST_SIM_REMOTES (dir, ssh, s3; default dir), seeds from
CAIRN_TEST_SIM_BASE (default 1; "random" for a random one). CAIRN_TEST_SIM_OPS
chooses the operations (default: all but those that hit a known bug, none
today; or a list such as
default,gc-remote). CAIRN_TEST_SIM_SEED=N runs that
one sequence (replay a failure; the failure output says how).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

RUNS=${CAIRN_TEST_SIM_RUNS:-30}
REMOTES=$(echo "${CAIRN_TEST_SIM_REMOTES:-dir}" | tr , " ")
BASE=${CAIRN_TEST_SIM_BASE:-1}
if test "$BASE" = random
then
	BASE=$(od -An -N3 -tu4 /dev/urandom | tr -d " ")
fi
if test -n "$CAIRN_TEST_SIM_SEED"
then
	BASE=$CAIRN_TEST_SIM_SEED RUNS=1
fi
SIM="$TEST_DIRECTORY/sim/team-sim.py"

for kind in $REMOTES
do
	case $kind in
	dir) ;;
	ssh) . "$TEST_DIRECTORY/lib-sshd.sh" && start_sshd ;;
	s3) . "$TEST_DIRECTORY/lib-s3.sh" && start_s3 ;;
	*) BUG "CAIRN_TEST_SIM_REMOTES: unknown remote kind '$kind'" ;;
	esac
done

test_expect_success 'the simulator knows its operations; bad ones are refused' '
	python3 "$SIM" --help >out &&
	test_grep "team-sim" out &&
	test_must_fail python3 "$SIM" --seed 1 --ops default,frob 2>err &&
	test_grep "unknown operation" err
'

# Found by the simulator (a run with CAIRN_TEST_SIM_OPS=all, reduced by
# --minimize to one gc -r in a clone that had pulled nothing): gc -r
# stores the trees and manifests it fetches to learn what they name, and
# fsck then reported every chunk below them as missing (exit 1).
test_expect_success 'gc -r in a clone that never pulled leaves fsck clean' '
	git init -q --bare fo.git &&
	git clone -q fo.git fa 2>/dev/null &&
	(
		cd fa &&
		cairn init --chunk-size 4K:16K:64K >/dev/null &&
		cairn remote add --local -d origin "$TRASH_DIRECTORY/fr" &&
		mkdir data &&
		make_random data/big 200000 1 &&
		echo small >data/s.csv &&
		cairn add -q data &&
		git add -A && git commit -qm v1 &&
		git push -q origin HEAD:main && cairn push -q
	) &&
	git clone -q fo.git fb &&
	(
		cd fb &&
		cairn remote add --local -d origin "$TRASH_DIRECTORY/fr" &&
		cairn gc -r origin --grace 0 >../out &&
		test_grep "fetched [1-9][0-9]* trees and manifests" ../out &&
		cairn fsck >../out &&
		test_grep "incomplete" ../out &&
		cairn pull -q &&
		cairn fsck >../out &&
		test_grep ! "incomplete" ../out &&
		cairn fsck -r origin --read-data -q
	)
'

# replay NAME: replay the operations of stdin (saved as NAME.json)
replay () {
	cat >"$1.json" &&
	python3 "$SIM" --replay "$1.json" --dir "$TRASH_DIRECTORY/known"
}

# Two clones change different files of one directory on main; the merge
# driver merges the pointers, and the model checks the merged version
# (pulled by a fresh clone, restored from B's store) file by file.
test_expect_success 'a merge by cairn merge-driver gives the three-way merge' '
	replay merge <<-\EOF >out &&
	{"seed": 9, "remote": "dir", "small": 1, "ops": [
	 {"op": "publish", "clone": "A", "seed": 11, "ds": "data"},
	 {"op": "cpull", "clone": "B", "seed": 1, "flag": true},
	 {"op": "add", "clone": "B", "seed": 12, "ds": "data"},
	 {"op": "commit", "clone": "B", "seed": 3},
	 {"op": "publish", "clone": "A", "seed": 13, "ds": "data"},
	 {"op": "gpull", "clone": "B", "seed": 4, "branch": "main"},
	 {"op": "cpush", "clone": "B", "seed": 5},
	 {"op": "gpush", "clone": "B", "seed": 6}]}
	EOF
	test_grep "1 merged by the driver" out
'

# The shortest sequences the simulator found for bugs of issue 18
# (--minimize, then tidied), kept as regression tests. Each replays
# exactly, with no kill.

test_expect_success 'issue 18 item 1: gc -r keeps a small file that main needs' '
	replay item1 <<-\EOF
	{"seed": 1, "remote": "dir", "small": 1, "ops": [
	 {"op": "gc-remote", "clone": "B", "seed": 1, "grace": 0},
	 {"op": "cpull", "clone": "B", "seed": 2, "flag": true}]}
	EOF
'

test_expect_success 'issue 18 item 2: gc keeps a version also committed under another name' '
	replay item2 <<-\EOF
	{"seed": 1, "remote": "dir", "small": 1, "ops": [
	 {"op": "ptr-copy", "clone": "A", "seed": 3, "ds": "labels.csv"},
	 {"op": "add", "clone": "A", "seed": 4, "ds": "labels.csv"},
	 {"op": "commit", "clone": "A", "seed": 5},
	 {"op": "gc", "clone": "A", "seed": 6}]}
	EOF
'

test_expect_success 'issue 18 item 3: gc -r from a clone that did not fetch keeps a new branch' '
	replay item3 <<-\EOF
	{"seed": 1, "remote": "dir", "small": 0, "ops": [
	 {"op": "branch", "clone": "B", "seed": 1, "branch": "b1"},
	 {"op": "publish", "clone": "B", "seed": 2, "ds": "model.bin"},
	 {"op": "gc-remote-stale", "clone": "A", "seed": 3, "grace": 0}]}
	EOF
'

: >sim.stats
for kind in $REMOTES
do
	for i in $(test_seq 1 $RUNS)
	do
		seed=$((BASE + i - 1))
		test_expect_success "$kind remote: sequence with seed $seed" '
			python3 "$SIM" --seed $seed --remote $kind --dir "$TRASH_DIRECTORY/sim" \
				--stats "$TRASH_DIRECTORY/sim.stats"
		'
	done
done

test_expect_success 'figures' '
	python3 - "$TRASH_DIRECTORY/sim.stats" >>"$TRASH_DIRECTORY/figures" <<-\EOF
	import json, sys
	runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
	kinds = {}
	for r in runs:
	    kinds[r["remote"]] = kinds.get(r["remote"], 0) + 1
	tot = lambda k: sum(r[k] for r in runs)
	print("team-sim: %d sequences (%s), %d operations, %d cairn commands killed "
	      "of %d tried, %d pointer versions verified byte for byte, %d failures"
	      % (len(runs), ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
	         tot("ops"), tot("killed"), tot("kills"), tot("verified"),
	         sum(1 for r in runs if not r["ok"])))
	EOF
'

test_done
