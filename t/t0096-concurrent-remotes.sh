#!/bin/sh

test_description='two clients pushing to one remote at once: a directory, ssh, s3

Clones X and Y push to one fresh remote at the same moment, each its own
data and a shared dataset whose packs are byte for byte the same on both
sides (so both upload the same pack names at once), while a third clone
W pulls from it. Each push succeeds or fails cleanly (an error: line, a
status from 1 to 127; then it is run again); W gets everything right or
fails cleanly, never a wrong byte; the remote is fsck-clean, read whole
(fsck -r --read-data); X and Y are fsck-clean; a fourth clone Z gets
every file of both, byte for byte. On a directory and over ssh (a real
sshd) the remote then holds nothing but the marker, packs with their
indexes and audit segments. On s3 the server is a real radosgw, started
once for the script. CAIRN_TEST_CONC_RUNS runs on a directory and over
ssh, CAIRN_TEST_S3_CONC_RUNS on s3 (2 each by default; make stress runs
100 and 50).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

start_sshd
start_s3

RUNS=${CAIRN_TEST_CONC_RUNS:-2}
S3_RUNS=${CAIRN_TEST_S3_CONC_RUNS:-2}

test_expect_success 'setup: X and Y, each with its own data and the same shared packs' '
	git init -q base && (
		cd base &&
		cairn init --chunk-size 4K:16K:64K >/dev/null &&
		cairn config pack.size 256k &&
		mkdir shared &&
		make_random shared/s.bin 1000000 1 &&
		for i in $(test_seq 1 20); do echo "shared $i" >shared/f$i || return 1; done &&
		cairn add -q shared &&
		git add -A && git commit -qm base
	) &&
	cp -R base/shared shared.copy &&
	git clone -q base X && git clone -q base Y &&
	cp -R base/.cairn/store X/.cairn/store &&
	cp -R base/.cairn/store Y/.cairn/store &&
	for c in x y
	do
		C=$(echo $c | tr xy XY) &&
		seed=$(test $c = x && echo 10 || echo 20) &&
		mkdir -p $C/d$c/$c/small &&
		make_random $C/d$c/$c/own 1500000 $seed &&
		make_random $C/d$c/$c/own2 700000 $((seed + 1)) &&
		cp shared.copy/s.bin $C/d$c/$c/copy-of-shared &&
		for i in $(test_seq 1 30); do echo "$c $i" >$C/d$c/$c/small/f$i || return 1; done &&
		(cd $C && cairn add -q d$c/$c && git add -A && git commit -qm $c) &&
		cp -R $C/d$c/$c $c.copy || return 1
	done &&
	! cmp -s x.copy/own2 y.copy/own2 &&
	ls base/.cairn/store/packs >shared.packs &&
	test_line_count -ge 2 shared.packs &&
	git clone -q X Z && git -C Z pull -q --no-rebase --no-edit ../Y main &&
	git clone -q X W
'

# push_ok NAME STATUS: a push that exited STATUS (output in NAME.out) was
# fine (0) or failed cleanly, which is counted; a crash or a failure
# without an error: line is not.
push_ok () {
	test "$2" = 0 && return 0
	if test "$2" -gt 127 || ! grep "^error: " $1.out >/dev/null
	then
		echo "push $1 exited $2:" >&8
		cat $1.out >&8
		return 1
	fi
	clean=$((clean + 1))
}

# remote_layout DIR: only the marker, packs with their indexes, and audit
# segments (no temp file, no pack without its index).
remote_layout () {
	(cd "$1" && find . -type f | sed "s|^\./||" | LC_ALL=C sort) >files &&
	{ grep -v -E "^(cairn-remote|packs/[0-9a-f]{32}\.(pack|idx)|audit/[0-9a-f]{32}-[0-9]{12}-[0-9]{12}\.log)\$" files >other || :; } &&
	test_must_be_empty other &&
	sed -n "s|^packs/\(.*\)\.pack\$|\1|p" files >packs &&
	sed -n "s|^packs/\(.*\)\.idx\$|\1|p" files >idx &&
	test_cmp packs idx
}

# conc_run KIND N: run N on a fresh remote of KIND (dir, ssh or s3).
conc_run () {
	name=$1$2 &&
	case $1 in
	dir) url=$TRASH_DIRECTORY/remote-$name where=$url ;;
	ssh) url=testhost:$SSH_ROOT/$name where=$SSH_ROOT/$name ;;
	s3) url=s3://$S3_BUCKET/conc/$name where= ;;
	esac &&
	for c in X Y Z W
	do
		(
			cd $c &&
			cairn remote add --local $name "$url" &&
			if test $1 = s3
			then
				cairn config --local remote.$name.endpoint "$S3_ENDPOINT" &&
				cairn config --local remote.$name.region "$S3_REGION"
			fi
		) || return 1
	done &&
	rm -rf W/.cairn/store W/shared W/dx/x W.out W.status pushes.done &&
	{ (cd X && exec cairn push -q -r $name) >X.out 2>&1 & px=$!; } &&
	{ (cd Y && exec cairn push -q -r $name) >Y.out 2>&1 & py=$!; } &&
	# W pulls again and again while they push
	{
		(
			cd W &&
			while ! test -f ../pushes.done
			do
				cairn pull -q -r $name >>../W.out 2>&1
				echo $? >>../W.status
			done
		) &
		pw=$!
	} &&
	rx=0 && ry=0 &&
	{ wait $px || rx=$?; } &&
	{ wait $py || ry=$?; } &&
	: >pushes.done &&
	wait $pw &&
	push_ok X $rx && push_ok Y $ry &&
	# a clean failure: the push run again completes
	{ test $rx = 0 || (cd X && cairn push -q -r $name); } &&
	{ test $ry = 0 || (cd Y && cairn push -q -r $name); } &&
	# every pull of W during the pushes got all of it, or failed cleanly
	# (an error: line each); never a wrong byte
	touch W.status W.out &&
	{ grep -v -x "[0-9]\|[0-9][0-9]\|1[01][0-9]\|12[0-7]" W.status >crashes || :; } &&
	test_must_be_empty crashes &&
	ok=$(grep -c -x 0 W.status || :) &&
	refused=$(grep -c -v -x 0 W.status || :) &&
	errors=$(grep -c "^error: " W.out || :) &&
	test $errors -ge $refused &&
	wdone=$((wdone + ok)) wrefused=$((wrefused + refused)) &&
	no_wrong_bytes x.copy W/dx/x && no_wrong_bytes shared.copy W/shared &&
	(cd W && cairn fsck -q && cairn pull -q -r $name && cairn fsck -q) &&
	same_tree x.copy W/dx/x && same_tree shared.copy W/shared &&
	(cd X && cairn fsck -q -r $name --read-data && cairn fsck -q) &&
	(cd Y && cairn fsck -q) &&
	rm -rf Z/.cairn/store Z/shared Z/dx/x Z/dy/y &&
	(cd Z && cairn pull -q -r $name && cairn fsck -q) &&
	same_tree x.copy Z/dx/x &&
	same_tree y.copy Z/dy/y &&
	same_tree shared.copy Z/shared &&
	if test -n "$where"
	then
		remote_layout "$where" && rm -rf "$where"
	fi
}

# conc_runs KIND RUNS: RUNS runs, then the figures.
conc_runs () {
	clean=0 wdone=0 wrefused=0 &&
	for n in $(test_seq 1 $2)
	do
		conc_run $1 $n || { echo "run $n on $1 failed" >&8; return 1; }
	done &&
	echo "concurrent pushes ($1): $2 runs of two pushers and a puller, $clean clean push failures (run again), $wdone pulls complete and $wrefused refused cleanly during the pushes, 0 losses" >>"$TRASH_DIRECTORY/figures"
}

test_expect_success "two pushes to one directory at once, $RUNS runs: both complete, nothing lost" '
	conc_runs dir $RUNS
'

test_expect_success "two pushes over ssh at once, $RUNS runs: both complete, nothing lost" '
	conc_runs ssh $RUNS
'

test_expect_success "two pushes to one s3 remote at once, $S3_RUNS runs: both complete, nothing lost" '
	conc_runs s3 $S3_RUNS &&
	# how often both sent one pack and the server kept the first (412)
	{ grep -c "\"PUT /$S3_BUCKET/conc/s3[0-9]*/packs/[0-9a-f]*\.\(pack\|idx\) HTTP/1.1\" 412" \
		"$S3_LOG" >n412 || :; } &&
	echo "concurrent pushes (s3): $(cat n412) uploads of a pack or index the other pusher had just sent, refused by the server (412) and counted as done" >>"$TRASH_DIRECTORY/figures"
'

test_done
