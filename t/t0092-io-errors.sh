#!/bin/sh

test_description='I/O errors (EIO, ENOSPC) injected into add, checkout, pull and gc

t/shim/faultfs.so (LD_PRELOAD) makes the N-th write, fsync, rename or open
below the repository fail. For every fsync and rename of a command, and for
a spread of its writes, the command must exit non-zero with an error:
message (never a crash, never a reported success: a failed fsync is not
retried into one), the store must stay consistent (fsck clean), nothing
committed before may be lost, the pointer must keep its old version, and
the same command without the fault must then complete.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so"
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
export ASAN_OPTIONS

# counts ROOT CMD...: "DURABLE FSYNC WRITE RENAME OPEN" calls of CMD below ROOT
counts () {
	root=$1 && shift &&
	rm -f "$TRASH_DIRECTORY/count" &&
	FAULTFS_ROOT=$(cd "$root" && pwd -P) FAULTFS_CRASH_AT=0 \
		FAULTFS_COUNT="$TRASH_DIRECTORY/count" LD_PRELOAD="$SHIM" "$@" >/dev/null 2>&1 &&
	cat "$TRASH_DIRECTORY/count"
}

# injected FAULT ROOT CMD...: CMD fails cleanly under FAULT (OP:N:ERRNO)
injected () {
	fault=$1 root=$2 && shift 2 &&
	{
		FAULTFS_ROOT=$(cd "$root" && pwd -P) FAULTFS_FAIL=$fault LD_PRELOAD="$SHIM" \
			"$@" >"$TRASH_DIRECTORY/inj.out" 2>"$TRASH_DIRECTORY/inj.err"
		st=$?
	} &&
	if test $st = 0 || test $st -gt 127
	then
		echo "under $fault, '$*' exited $st:" && cat "$TRASH_DIRECTORY/inj.err" && return 1
	fi &&
	grep -q "^error: " "$TRASH_DIRECTORY/inj.err" || {
		echo "under $fault, no error: message from '$*':" && cat "$TRASH_DIRECTORY/inj.err" && return 1
	}
}

# spread N: 1 2 3 and a few points up to N, each once
spread () {
	{ echo 1; echo 2; echo 3; echo $(($1 / 3)); echo $(($1 / 2)); echo $(($1 - 1)); echo $1; } |
	awk -v n="$1" '$1 >= 1 && $1 <= n && !seen[$1]++'
}

test_expect_success 'setup: a committed version, and a new one to add' '
	test_path_is_file "$SHIM" &&
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir data && make_random data/big 500000 1 &&
	for i in 1 2 3 4; do echo "small $i" >data/s$i; done &&
	cairn add -q data && git add -A && git commit -qm v1 &&
	cp -r data ../v1 && cp data.cairn ../v1.cairn &&
	make_random data/big 520000 2 && echo new >data/s5 &&
	cp -r data ../v2 &&
	cd .. && cp -a repo pristine
'

# after a failed add: store consistent; the pointer is the old version
# (or, when only the final directory fsync failed, the new one, complete);
# then add completes
check_failed_add () {
	cairn fsck -q &&
	if ! cmp -s data.cairn ../v1.cairn
	then
		mv data ../data.kept && cairn checkout -q && diff -r data ../v2 &&
		rm -rf data && mv ../data.kept data
	fi &&
	cairn add -q data && cairn fsck -q &&
	rm -rf data && cairn checkout -q && diff -r data ../v2 &&
	git stash -q && cairn checkout -q -f && diff -r data ../v1 && git stash pop -q
}

test_expect_success 'add: every fsync failing with EIO, one at a time' '
	rm -rf repo && cp -a pristine repo &&
	set -- $(cd repo && counts . cairn add -q data) && nf=$2 &&
	test "$nf" -ge 6 &&
	for k in $(test_seq 1 $nf)
	do
		rm -rf repo && cp -a pristine repo &&
		(cd repo && injected fsync:$k:EIO . cairn add -q data && check_failed_add) ||
		{ echo "fsync $k"; return 1; }
	done &&
	echo "add: $nf fsyncs failed one at a time, 0 reported successes" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'add: writes failing with ENOSPC and EIO' '
	rm -rf repo && cp -a pristine repo &&
	set -- $(cd repo && counts . cairn add -q data) && nw=$3 &&
	test "$nw" -ge 3 &&
	tried=0 &&
	for k in $(spread $nw) all
	do
		for e in ENOSPC EIO
		do
			rm -rf repo && cp -a pristine repo &&
			(cd repo && injected write:$k:$e . cairn add -q data && check_failed_add) ||
			{ echo "write $k $e"; return 1; }
			tried=$((tried + 1))
		done
	done &&
	echo "add: $tried injected write faults ($nw writes), 0 reported successes" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'add: every rename failing' '
	rm -rf repo && cp -a pristine repo &&
	set -- $(cd repo && counts . cairn add -q data) && nr=$4 &&
	test "$nr" -ge 3 &&
	for k in $(test_seq 1 $nr)
	do
		rm -rf repo && cp -a pristine repo &&
		(cd repo && injected rename:$k:EIO . cairn add -q data && check_failed_add) ||
		{ echo "rename $k"; return 1; }
	done
'

test_expect_success 'add on a full disk names the problem' '
	rm -rf repo && cp -a pristine repo && cd repo &&
	injected write:all:ENOSPC . cairn add -q data &&
	test_grep "No space left on device" "$TRASH_DIRECTORY/inj.err"
'

test_expect_success 'checkout: failed writes and fsyncs never leave wrong bytes' '
	rm -rf repo && cp -a pristine repo && (cd repo && rm -rf data) &&
	cp -a repo pristine-co &&
	set -- $(cd repo && counts . cairn checkout -q) && nw=$3 nf=$2 &&
	test "$nw" -ge 2 &&
	tried=0 &&
	for fault in $(for k in $(spread $nw); do echo write:$k:EIO; done) \
		$(for k in $(test_seq 1 $nf); do echo fsync:$k:EIO; done) write:all:ENOSPC
	do
		rm -rf repo && cp -a pristine-co repo &&
		(
			cd repo &&
			injected $fault . cairn checkout -q &&
			# what is there is right or absent, never wrong
			for f in big s1 s2 s3 s4
			do
				test ! -e data/$f || cmp data/$f ../v1/$f || return 1
			done &&
			cairn fsck -q && cairn checkout -q && diff -r data ../v1
		) || { echo "checkout under $fault"; return 1; }
		tried=$((tried + 1))
	done &&
	echo "checkout: $tried injected faults, 0 wrong bytes" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'pull: failed writes, fsyncs and renames, then pull completes' '
	rm -rf repo remote && cp -a pristine repo && mkdir remote &&
	(
		cd repo && cairn remote add -d origin ../remote &&
		cairn add -q data && git add -A && git commit -qm v2 && cairn push -q --all-commits
	) &&
	git clone -q repo clone && cp -a clone pristine-clone &&
	set -- $(cd clone && counts . cairn pull -q) && nf=$2 nw=$3 nr=$4 &&
	test "$nf" -ge 2 && test "$nw" -ge 2 &&
	tried=0 &&
	for fault in $(for k in $(spread $nw); do echo write:$k:EIO; done) \
		$(for k in $(test_seq 1 $nf); do echo fsync:$k:EIO; done) \
		$(for k in $(test_seq 1 $nr); do echo rename:$k:EIO; done) write:all:ENOSPC
	do
		rm -rf clone && cp -a pristine-clone clone &&
		(
			cd clone &&
			injected $fault . cairn pull -q &&
			cairn fsck -q && cairn pull -q -f && diff -r data ../v2 && cairn fsck -q
		) || { echo "pull under $fault"; return 1; }
		tried=$((tried + 1))
	done &&
	echo "pull: $tried injected faults, 0 reported successes" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'gc: a failed fsync or rename stops it; nothing is lost' '
	rm -rf repo && cp -a pristine repo && (
		cd repo && cairn add -q data && git add -A && git commit -qm v2 &&
		git checkout -q -b side && make_random data/side 200000 9 && echo keep >data/s7 &&
		cairn add -q data && git add -A && git commit -qm side &&
		git checkout -q - && cairn checkout -q -f && echo keep >data/s7 &&
		cairn add -q data && git add -A && git commit -qm v3 && cp -r data ../v3 &&
		git branch -q -D side
	) &&
	cp -a repo pristine-gc &&
	set -- $(cd repo && counts . cairn gc -q) && nf=$2 nr=$4 &&
	test "$nf" -ge 1 &&
	for fault in $(for k in $(test_seq 1 $nf); do echo fsync:$k:EIO; done) \
		$(for k in $(test_seq 1 $nr); do echo rename:$k:EIO; done) write:1:ENOSPC
	do
		rm -rf repo && cp -a pristine-gc repo &&
		(
			cd repo &&
			injected $fault . cairn gc -q &&
			cairn fsck -q && cairn gc -q && cairn fsck -q &&
			rm -rf data && cairn checkout -q && diff -r data ../v3 &&
			cairn checkout -q -f --rev HEAD~1 && diff -r data ../v2 &&
			cairn checkout -q -f --rev HEAD~2 && diff -r data ../v1
		) || { echo "gc under $fault"; return 1; }
	done
'

test_done
