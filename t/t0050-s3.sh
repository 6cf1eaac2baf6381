#!/bin/sh

test_description='remotes on S3 against a real radosgw on 127.0.0.1

Ceph RADOS Gateway on a one-node Ceph cluster, started by the test and
stopped by PID. The shared backend suite runs against it; then push and
pull between clones, what the AWS CLI sees of a push, every source of
credentials and the refusal of committed ones, a wrong secret, multipart
uploads and their abort, and a server killed in the middle of a push.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_s3

# "$@" in the background (out of the test's &&-chain): output in
# push.out, exit code in push.rc, the pid in bg_pid
run_in_background () {
	{ "$@" >push.out 2>&1; echo $? >push.rc; } &
	bg_pid=$!
}

# every output of cairn goes here too, to look for the secret at the end
log_out () {
	cat "$@" >>"$TRASH_DIRECTORY/all-output"
}

test_expect_success 'the shared backend suite passes on s3' '
	AWS_ENDPOINT_URL=$S3_ENDPOINT CAIRN_TEST_BACKEND_URL="s3://$S3_BUCKET/suite" \
		"$CAIRN_BUILD_DIR/t/unit/backend-test" >suite.out 2>&1 &&
	log_out suite.out &&
	test_grep ! "^not ok" suite.out &&
	test_grep "^1\.\.27" suite.out
'

test_expect_success 'the suite met If-None-Match refusals and an out-of-range read' '
	grep "beast: " "$S3_LOG" >reqs &&
	test_grep "\"PUT /$S3_BUCKET/suite/packs/a.idx HTTP/1.1\" 412" reqs &&
	test_grep "\"GET /$S3_BUCKET/suite/packs/a.idx HTTP/1.1\" 416" reqs
'

test_expect_success 'setup: repository A with data, an s3 remote' '
	git init -q a && cd a &&
	cairn init --chunk-size 4K:16K:64K &&
	printf "out\nerr\nexpect\nreqs\nmpu\nbefore\nafter\npush.*\n" >.gitignore &&
	mkdir -p data/sub &&
	for i in 1 2 3 4 5; do make_random data/f$i 200000 $i || return 1; done &&
	echo small >data/sub/s.txt && : >data/empty && ln -s f1 data/link &&
	make_random model.bin 1500000 9 &&
	cairn add -q data model.bin &&
	cairn remote add -d origin "s3://$S3_BUCKET/proj/churn" &&
	cairn config remote.origin.endpoint "$S3_ENDPOINT" &&
	cairn config remote.origin.region "$S3_REGION" &&
	git add -A && git commit -qm v1
'

test_expect_success 'push to s3, then a second push sends nothing' '
	cd a &&
	cairn push >out 2>&1 && log_out out &&
	test_grep "^pushed" out &&
	cairn push >out 2>&1 && log_out out &&
	test_grep "^pushed 0 objects" out
'

test_expect_success 'the AWS CLI sees the documented layout' '
	s3_aws s3 ls --recursive "s3://$S3_BUCKET/proj/churn/" >ls.out &&
	awk "{print \$4}" ls.out | sort >keys &&
	grep -c "^proj/churn/packs/[0-9a-f]\{32\}\.pack$" keys >npack &&
	grep -c "^proj/churn/packs/[0-9a-f]\{32\}\.idx$" keys >nidx &&
	test "$(cat npack)" -ge 2 && test_cmp npack nidx &&
	# audit segments (Documentation/technical/audit-format.md) beside the packs
	grep "^proj/churn/audit/[0-9a-f]\{32\}-[0-9]\{12\}-[0-9]\{12\}\.log$" keys >segments &&
	test_line_count -ge 1 segments &&
	grep -v -e "\.pack$" -e "\.idx$" -e "^proj/churn/audit/" keys >other &&
	printf "proj/churn/cairn-remote\nproj/churn/packs/\n" >expect &&
	test_cmp expect other &&
	s3_aws s3 cp "s3://$S3_BUCKET/proj/churn/cairn-remote" marker >/dev/null &&
	printf "cairn remote format 1\n" >expect && test_cmp expect marker
'

test_expect_success 'packs fetched by the AWS CLI are the local packs, byte for byte' '
	mkdir fetched &&
	s3_aws s3 cp --recursive "s3://$S3_BUCKET/proj/churn/packs/" fetched/ >/dev/null &&
	same=0 &&
	for f in fetched/*.pack fetched/*.idx
	do
		n=$(basename $f) &&
		if test -f a/.cairn/store/packs/$n
		then
			cmp $f a/.cairn/store/packs/$n && same=$((same + 1)) || return 1
		fi || return 1
	done &&
	test $same -ge 2
'

test_expect_success 'a clone pulls byte-identical data' '
	git clone -q a b && cd b &&
	cairn pull >out 2>&1 && log_out out &&
	diff -r data ../a/data && cmp model.bin ../a/model.bin &&
	test "$(readlink data/link)" = f1 &&
	cairn status >out && test_grep "match" out
'

test_expect_success 'clone-to-clone: a change pushed by B is pulled by A' '
	cd b &&
	make_random data/f6 300000 66 &&
	cairn add -q data &&
	git add -A && git commit -qm "from b" &&
	cairn push -q -j 3 &&
	cd ../a && git pull -q ../b HEAD &&
	cairn pull -q &&
	cmp data/f6 ../b/data/f6 &&
	diff -r data ../b/data
'

test_expect_success 'a pack already there without its index (a killed push) is not sent again' '
	cd a &&
	ls .cairn/store/packs >../packs.before &&
	make_random data/f8 1500000 88 && cairn add -q data &&
	ls .cairn/store/packs >../packs.after &&
	for p in $(comm -13 ../packs.before ../packs.after | grep "\.pack\$")
	do
		if test $(size_of .cairn/store/packs/$p) -ge 1048576; then echo $p; fi
	done >../new &&
	test_line_count = 1 ../new &&
	hex=$(sed "s/\.pack\$//" ../new) &&
	s3_aws s3 cp ".cairn/store/packs/$hex.pack" "s3://$S3_BUCKET/proj/churn/packs/$hex.pack" >/dev/null &&
	puts=$(s3_count "PUT /$S3_BUCKET/proj/churn/packs/$hex.pack ") &&
	cairn push >../out 2>&1 && log_out ../out &&
	test "$(s3_count "PUT /$S3_BUCKET/proj/churn/packs/$hex.pack ")" = "$puts" &&
	grep "beast: " "$S3_LOG" >../reqs &&
	test_grep "\"HEAD /$S3_BUCKET/proj/churn/packs/$hex.pack HTTP/1.1\" 200" ../reqs &&
	test_grep "\"PUT /$S3_BUCKET/proj/churn/packs/$hex.idx HTTP/1.1\" 200" ../reqs &&
	git add -A && git commit -qm f8 &&
	(cd ../b && git pull -q ../a HEAD && cairn pull -q data && cmp data/f8 ../a/data/f8)
'

test_expect_success 'listings are paged (ListObjectsV2 continuation tokens)' '
	git clone -q a e && cd e &&
	cairn config --local remote.origin.list-max-keys 2 &&
	cairn pull -q model.bin &&
	cmp model.bin ../a/model.bin &&
	grep "beast: " "$S3_LOG" >../reqs &&
	test_grep "GET /$S3_BUCKET?continuation-token=[^ ]*&delimiter=%2F&list-type=2&max-keys=2&prefix=proj%2Fchurn%2Fpacks%2F HTTP/1.1\" 200" ../reqs &&
	test_grep "GET /$S3_BUCKET/proj/churn/packs/[0-9a-f]*\.pack HTTP/1.1\" 206 [0-9]* - - bytes=" ../reqs
'

test_expect_success 'credentials from a profile in ~/.aws/credentials (AWS_PROFILE)' '
	git clone -q a c && cd c &&
	mkdir -p "$HOME/.aws" &&
	printf "[other]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n[cairn-test]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$HOME/.aws/credentials" &&
	test_when_finished "rm -f \"$HOME/.aws/credentials\"" &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=cairn-test \
		cairn pull -q model.bin &&
	cmp model.bin ../a/model.bin &&
	rm model.bin &&
	test_must_fail env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=other \
		cairn pull model.bin 2>err &&
	log_out err &&
	test_grep "403" err &&
	test_path_is_missing model.bin
'

test_expect_success 'credentials from remote.NAME.profile and ~/.aws/config' '
	cd c &&
	printf "[profile viaconfig]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n" \
		"$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$S3_REGION" >"$HOME/.aws/config" &&
	test_when_finished "rm -f \"$HOME/.aws/config\"" &&
	cairn config --local remote.origin.profile viaconfig &&
	test_when_finished "cairn config --local --unset remote.origin.profile" &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY cairn pull -q model.bin &&
	cmp model.bin ../a/model.bin
'

test_expect_success 'no credentials anywhere: a clear error' '
	cd c && rm -f model.bin &&
	test_must_fail env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		cairn pull model.bin 2>err &&
	test_grep "no S3 credentials" err &&
	test_path_is_missing model.bin
'

test_expect_success 'credentials from .cairn/config.local, hidden by cairn config' '
	cd c &&
	cairn config --local remote.origin.access-key-id "$S3_ACCESS_KEY" &&
	test_must_fail cairn pull model.bin 2>err && log_out err &&
	test_grep "only one of" err &&
	cairn config --local remote.origin.secret-access-key "$S3_SECRET_KEY" &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY cairn pull -q model.bin &&
	cmp model.bin ../a/model.bin &&
	cairn config --list >out && log_out out &&
	test_grep "remote.origin.secret-access-key=(hidden)" out &&
	cairn config remote.origin.secret-access-key >out && log_out out &&
	echo "(hidden)" >expect && test_cmp expect out
'

test_expect_success 'credentials in the committed .cairn/config are refused' '
	cd c &&
	test_must_fail cairn config remote.origin.secret-access-key "$S3_SECRET_KEY" 2>err &&
	log_out err && test_grep "config.local" err &&
	printf "[remote \"origin\"]\n\tsecret-access-key = %s\n" "$S3_SECRET_KEY" >>.cairn/config &&
	test_when_finished "git checkout -q .cairn/config" &&
	test_must_fail cairn pull model.bin 2>err && log_out err &&
	test_grep "committed" err && test_grep "config.local" err
'

test_expect_success 'a wrong secret: a clear error, nothing left behind' '
	cd a &&
	s3_aws s3 ls --recursive "s3://$S3_BUCKET/" >before &&
	make_random data/f7 100000 77 && cairn add -q data &&
	test_must_fail env AWS_SECRET_ACCESS_KEY=wrong-secret-key cairn push 2>err &&
	log_out err &&
	test_grep "error: .*403.*SignatureDoesNotMatch" err &&
	test_grep "s3://$S3_BUCKET/proj/churn" err &&
	test_grep ! "wrong-secret-key" err &&
	s3_aws s3 ls --recursive "s3://$S3_BUCKET/" >after &&
	test_cmp before after
'

test_expect_success 'a missing bucket: an error naming it, at once' '
	git clone -q a d && cd d &&
	cairn remote add nob "s3://no-such-bucket-here/x" &&
	cairn config remote.nob.endpoint "$S3_ENDPOINT" &&
	before=$(s3_requests) &&
	test_must_fail cairn push -r nob 2>err && log_out err &&
	test_grep "no-such-bucket-here" err && test_grep "NoSuchBucket" err &&
	after=$(s3_requests) &&
	test $((after - before)) -le 3
'

test_expect_success 'multipart upload of large packs (low threshold by config)' '
	cd a &&
	cairn config remote.origin.multipart-threshold 6m &&
	cairn config remote.origin.part-size 5m &&
	test_when_finished "cairn config --unset remote.origin.multipart-threshold; cairn config --unset remote.origin.part-size" &&
	make_random big.bin 16000000 123 &&
	cairn add -q big.bin && git add -A && git commit -qm big &&
	cairn push -q -j 2 &&
	grep "beast: " "$S3_LOG" >reqs &&
	test_grep "\"POST /$S3_BUCKET/proj/churn/packs/[0-9a-f]*\.pack?uploads= " reqs &&
	test_grep "\"PUT /$S3_BUCKET/proj/churn/packs/[0-9a-f]*\.pack?partNumber=3&uploadId=" reqs &&
	s3_aws s3api list-multipart-uploads --bucket "$S3_BUCKET" >mpu &&
	test_grep ! UploadId mpu &&
	(cd ../b && git pull -q ../a HEAD && cairn pull -q big.bin && cmp big.bin ../a/big.bin)
'

test_expect_success 'a failed multipart upload is aborted (parts too small for the server)' '
	cd a &&
	cairn config remote.origin.multipart-threshold 6m &&
	cairn config remote.origin.part-size 1m &&
	cairn config remote.origin.retries 0 &&
	test_when_finished "cairn config --unset remote.origin.multipart-threshold; cairn config --unset remote.origin.part-size; cairn config --unset remote.origin.retries" &&
	make_random big2.bin 9000000 124 &&
	cairn add -q big2.bin &&
	test_must_fail cairn push big2.bin 2>err && log_out err &&
	test_grep "EntityTooSmall" err &&
	grep "beast: " "$S3_LOG" >reqs &&
	test_grep "\"DELETE /$S3_BUCKET/proj/churn/packs/[0-9a-f]*\.pack?uploadId=" reqs &&
	s3_aws s3api list-multipart-uploads --bucket "$S3_BUCKET" >mpu &&
	test_grep ! UploadId mpu &&
	cairn config remote.origin.part-size 5m &&
	cairn push -q big2.bin
'

test_expect_success 'server killed in the middle of a push: an error; restarted: the push completes' '
	cd a &&
	cairn config pack.size 256k &&
	cairn config remote.origin.retries 2 &&
	test_when_finished "cairn config --unset pack.size; cairn config --unset remote.origin.retries" &&
	mkdir -p many &&
	for i in $(test_seq 1 40); do make_random many/m$i 400000 $((1000 + i)) || return 1; done &&
	cairn add -q many && git add -A && git commit -qm many &&
	start=$(s3_count "PUT /$S3_BUCKET/proj/churn/packs/") &&
	run_in_background cairn push -j 1 &&
	for i in $(test_seq 1 400)
	do
		test "$(s3_count "PUT /$S3_BUCKET/proj/churn/packs/")" -ge $((start + 3)) && break
		sleep 0.025
	done &&
	s3_kill_rgw &&
	wait $bg_pid &&
	log_out push.out &&
	test "$(cat push.rc)" != 0 &&
	test_grep "error: .*s3://$S3_BUCKET/proj/churn" push.out &&
	s3_restart_rgw &&
	cairn push >out 2>&1 && log_out out &&
	test_grep "^pushed" out &&
	(cd ../b && git pull -q ../a HEAD && cairn pull -q many && diff -r many ../a/many)
'

test_expect_success 'fsck -r checks the s3 remote' '
	cd a &&
	cairn fsck -r origin >out 2>&1 && log_out out
'

test_expect_success 'the secret was never printed, nor written under .cairn' '
	test_grep ! -F "$S3_SECRET_KEY" all-output &&
	cd a && cairn remote -v >out && log_out out &&
	test_grep "s3://$S3_BUCKET/proj/churn" out &&
	test_grep ! -F "$S3_SECRET_KEY" out &&
	! grep -rF "$S3_SECRET_KEY" .cairn ../b/.cairn
'

test_done
