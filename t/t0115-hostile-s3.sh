#!/bin/sh

test_description='a hostile S3 endpoint, and oversized files on a remote

t/helper/hostile-s3.py answers as an S3 server on 127.0.0.1 would, but
for one thing: its listings say IsTruncated forever (with the same
continuation token, or a new one each time), its error body never ends,
it answers a ranged GET with 200 or 206 and a body that never ends, it
answers an upload with a body that never ends, or it sends one byte a
second. cairn fetch (push for the upload) must fail each time with an
error: line and a non-zero exit, in bounded memory (ulimit -v) and
bounded time (timeout 120 around it, the request timeouts set small
through the remote'"'"'s config). Then a 2 TiB (sparse) audit segment
planted on a directory remote: pull refuses that segment with an error
and still checks out its data.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi
if ! command -v timeout >/dev/null
then
	skip_all='timeout (coreutils) not found'
	test_done
fi

# At most 1 GB of address space (capped, lib-cairn.sh), LMDB maps kept
# small to fit (run_bounded): an answer buffered without bound runs out
# of it long before the server stops sending.
CAPPED_KB=1000000

# start_hostile MODE: the server in MODE on a free port (PORT), its
# requests logged to hostile.log, stopped by PID when the script ends.
start_hostile () {
	rm -f port hostile.log &&
	: >hostile.log || return 1
	python3 "$TEST_DIRECTORY/helper/hostile-s3.py" "$1" "$TRASH_DIRECTORY/port" \
		"$TRASH_DIRECTORY/hostile.log" >/dev/null 2>&1 &
	hostile_pid=$!
	test_atexit "kill $hostile_pid 2>/dev/null || :"
	for i in $(test_seq 1 100)
	do
		test -s port && break
		sleep 0.1
	done &&
	test -s port &&
	PORT=$(cat port) &&
	(cd repo && cairn config remote.origin.endpoint "http://127.0.0.1:$PORT")
}

stop_hostile () {
	kill $hostile_pid 2>/dev/null || :
	wait $hostile_pid 2>/dev/null || :
}

# run_bounded DIR CMD...: CMD in DIR, capped, killed after 120 seconds;
# its output in out and err, its exit code in rc.
run_bounded () {
	(
		cd "$1" && shift &&
		CAIRN_TEST_LMDB_MAPSIZE=16777216 && export CAIRN_TEST_LMDB_MAPSIZE &&
		capped timeout 120 "$@"
	) >out 2>err
	echo $? >rc
}

# failed_cleanly: what run_bounded ran failed with an error: line, not
# by the timeout, a signal or running out of memory.
failed_cleanly () {
	cat err &&
	test "$(cat rc)" != 0 &&
	test "$(cat rc)" != 124 &&
	test "$(cat rc)" -lt 128 &&
	test_grep "^error: " err &&
	! grep -i "out of memory" err
}

# hostile_fetch: cairn fetch against the server fails cleanly.
hostile_fetch () {
	run_bounded repo cairn fetch -j 1 &&
	failed_cleanly
}

test_expect_success 'setup: a repository with a pointer and an s3 remote' '
	git init -q repo && (
		cd repo &&
		cairn init --chunk-size 1K:4K:16K >/dev/null &&
		make_random f.bin 20000 1 &&
		cairn add -q f.bin &&
		cairn remote add -d origin s3://bucket/proj &&
		cairn config remote.origin.region us-east-1 &&
		cairn config remote.origin.retries 1 &&
		cairn config remote.origin.timeout 2 &&
		cairn config remote.origin.request-timeout 8 &&
		git add -A && git commit -qm v1 &&
		cairn config --local remote.origin.access-key-id AKIDHOSTILE &&
		cairn config --local remote.origin.secret-access-key hostile-secret
	)
'

test_expect_success 'a listing truncated forever with the same token: refused at the second page' '
	start_hostile same-token &&
	hostile_fetch &&
	test_grep "continuation token" err &&
	test "$(grep -c "list-type" hostile.log)" -le 2 &&
	stop_hostile
'

test_expect_success 'a listing truncated forever with new tokens: refused after a bounded number of pages' '
	start_hostile new-tokens &&
	hostile_fetch &&
	test_grep "pages" err &&
	test "$(grep -c "list-type" hostile.log)" -le 2002 &&
	stop_hostile
'

test_expect_success 'an error body that never ends: the request is cut off and fails' '
	start_hostile endless-error &&
	hostile_fetch &&
	test_grep "HTTP 500" err &&
	stop_hostile
'

test_expect_success 'a 200 that ignores Range and never ends: bounded, refused' '
	start_hostile endless-200 &&
	hostile_fetch &&
	test_grep "packs/0123456789abcdef0123456789abcdef.idx" err &&
	stop_hostile
'

test_expect_success 'a 206 with a body that never ends: bounded, refused' '
	start_hostile endless-206 &&
	hostile_fetch &&
	test_grep "packs/0123456789abcdef0123456789abcdef.idx" err &&
	stop_hostile
'

test_expect_success 'an upload answered with a body that never ends: cut off, refused' '
	start_hostile endless-put &&
	run_bounded repo cairn push -j 1 &&
	failed_cleanly &&
	test_grep "PUT s3://bucket/proj/.*more than the 65536 bytes expected" err &&
	stop_hostile
'

test_expect_success 'a server that trickles a byte a second: dropped below the low-speed limit' '
	start_hostile trickle &&
	hostile_fetch &&
	test_grep "too slow\|timed out\|timeout" err &&
	stop_hostile
'

test_expect_success 'the same without a low-speed limit: dropped at the request timeout' '
	(cd repo && cairn config remote.origin.low-speed-limit 0 &&
		cairn config remote.origin.request-timeout 3) &&
	start_hostile trickle &&
	hostile_fetch &&
	test_grep "timed out\|timeout" err &&
	stop_hostile
'

test_expect_success 'bad values of the new settings are refused' '
	(
		cd repo &&
		cairn config remote.origin.request-timeout 0 &&
		test_must_fail cairn fetch 2>err &&
		test_grep "request-timeout" err &&
		cairn config remote.origin.request-timeout 8 &&
		cairn config remote.origin.low-speed-limit fast &&
		test_must_fail cairn fetch 2>err &&
		test_grep "low-speed-limit" err &&
		cairn config --unset remote.origin.low-speed-limit
	)
'

test_expect_success 'setup: a directory remote with a pushed dataset and a clone' '
	git init -q a && (
		cd a &&
		cairn init --chunk-size 1K:4K:16K >/dev/null &&
		make_random d.bin 30000 2 &&
		cairn add -q d.bin &&
		cairn remote add -d origin "$TRASH_DIRECTORY/rdir" &&
		git add -A && git commit -qm v1 &&
		cairn push -q
	) &&
	git clone -q a b &&
	ls rdir/audit/*.log >segments &&
	test_line_count -ge 1 segments
'

test_expect_success 'a 2 TiB (sparse) audit segment on the remote: refused, the data still pulled' '
	seg=$(basename "$(head -n 1 segments)" .log) &&
	clone=${seg%%-*} &&
	next=$(printf "%012d" $(expr "${seg##*-}" + 1)) &&
	big=rdir/audit/$clone-$next-$next.log &&
	: >"$big" &&
	truncate -s 2T "$big" &&
	run_bounded b cairn pull &&
	failed_cleanly &&
	test_grep "^error: .*$clone-$next-$next.log" err &&
	test_grep "larger than the 64 MiB" err &&
	cmp a/d.bin b/d.bin
'

test_expect_success 'an audit segment that fits is still read' '
	rm -f "$big" &&
	rm -rf b/.cairn/audit/conflicts &&
	(cd b && cairn pull -q && cairn audit verify)
'

test_expect_success 'a chain of more than 64 MiB goes up as several segments, and comes back whole' '
	clone=$(cat a/.cairn/audit/clone-id) &&
	(
		cd a &&
		audit-gen .cairn 120000 &&
		make_random e.bin 5000 3 &&
		cairn add -q e.bin &&
		git add -A && git commit -qm v2 &&
		cairn push -q
	) &&
	ls rdir/audit | grep "^$clone-" >mine &&
	test_line_count -ge 3 mine &&
	for f in $(cat mine)
	do
		test $(size_of "rdir/audit/$f") -le 67108864 || return 1
	done &&
	sed "s/^[0-9a-f]*-\([0-9]*\)-\([0-9]*\)\.log$/\1 \2/" mine >ranges &&
	awk "NR > 1 && \$1 != last + 1 { exit 1 } { last = \$2 }" ranges &&
	(cd b && git pull -q && cairn pull -q && cairn audit verify >../verify) &&
	test_grep "chain $clone: $(tail -n 1 ranges | cut -d" " -f2 | sed "s/^0*//") entries, ok" verify
'

test_done
