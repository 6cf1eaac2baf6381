#!/bin/sh

test_description='remotes on S3 against a real radosgw on 127.0.0.1

Ceph RADOS Gateway on a one-node Ceph cluster, started by the test and
stopped by PID. The shared backend suite runs against it; then push and
pull between clones, what the AWS CLI sees of a push, every source of
credentials and the refusal of committed ones, a wrong secret, multipart
uploads and their abort, https with a CA made for the test (and refused
without it), virtual-hosted addressing through remote.NAME.resolve,
connections reused across jobs, and a server killed in the middle of a
push.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

start_s3 tls

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
	test_grep "^1\.\.28" suite.out
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
	s3_cmp_packs fetched a/.cairn/store/packs 2
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

test_expect_success 'config.local with the credentials: 0600, and a warning when others can read it' '
	cd c &&
	echo 600 >expect && stat -c %a .cairn/config.local >actual && test_cmp expect actual &&
	rm -f model.bin &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY cairn pull -q model.bin 2>err &&
	test_grep ! "warning" err &&
	chmod 644 .cairn/config.local &&
	test_when_finished "chmod 600 .cairn/config.local" &&
	rm -f model.bin &&
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY cairn pull -q model.bin 2>err &&
	log_out err &&
	test_grep "^warning: .*config.local. holds the credentials of remote .origin. and is readable by others (mode 0644): chmod 600" err &&
	cmp model.bin ../a/model.bin
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

# https: the same radosgw's ssl_endpoint, with a certificate from the
# script's own CA (lib-s3.sh s3_make_certs)
test_expect_success 'setup: repository H, data pushed over https in three pushes' '
	git init -q h && cd h &&
	cairn init --chunk-size 4K:16K:64K &&
	printf "out\nerr\n" >.gitignore &&
	cairn remote add -d tls "s3://$S3_BUCKET/proj/tls" &&
	cairn config remote.tls.endpoint "$S3_TLS_ENDPOINT" &&
	cairn config remote.tls.ca-bundle "$S3_CA" &&
	make_random ../h-random 3000000 30 &&
	for n in 1 2 3
	do
		# 1,000,000 bytes of ../h-random each, in blocks of 50,000
		d=d$n && at=$(((n - 1) * 20)) &&
		mkdir -p $d/sub &&
		for i in 1 2 3 4
		do
			dd if=../h-random of=$d/sub/f$i bs=50000 skip=$((at + i * 3 - 3)) count=3 2>/dev/null ||
			return 1
		done &&
		dd if=../h-random of=$d/big bs=50000 skip=$((at + 12)) count=8 2>/dev/null &&
		ln -s big $d/link &&
		cairn add -q $d && git add -A && git commit -qm $d &&
		cairn push -j 4 >out 2>&1 && log_out out &&
		test_grep "^pushed" out || return 1
	done
'

test_expect_success 'https: a clone pulls byte-identical data' '
	git clone -q h h2 && cd h2 &&
	cairn pull -j 4 >out 2>&1 && log_out out &&
	for d in d1 d2 d3; do same_tree ../h/$d $d || return 1; done &&
	cairn status >out && test_grep "match" out
'

test_expect_success 'https: the AWS CLI, trusting the same CA, gets the packs cairn sent' '
	mkdir tls-packs &&
	aws --ca-bundle "$S3_CA" --endpoint-url "$S3_TLS_ENDPOINT" \
		s3 cp --recursive "s3://$S3_BUCKET/proj/tls/packs/" tls-packs/ >/dev/null &&
	ls tls-packs/*.pack >remote-packs &&
	test_line_count -ge 3 remote-packs &&
	s3_cmp_packs tls-packs h/.cairn/store/packs 4
'

test_expect_success 'https: jobs reuse connections and share TLS sessions' '
	git clone -q h h3 && cd h3 &&
	CAIRN_TEST_S3_STATS="$TRASH_DIRECTORY/stats" cairn pull -q -j 4 &&
	for d in d1 d2 d3; do same_tree ../h/$d $d || return 1; done &&
	awk "{ opens++; req += \$2; conn += \$4; res += \$6 } END { print opens, req, conn, res }" \
		../stats >counts &&
	read opens requests connects resumed <counts &&
	echo "$opens opens, $requests requests, $connects connections, $resumed TLS resumptions" &&
	# at most one connection per job, however often the jobs were started
	test "$connects" -ge 1 && test "$connects" -le 4 &&
	test "$opens" -gt "$connects" &&
	test "$requests" -ge $((connects * 4)) &&
	# the first connection got a TLS session; the other jobs offered it
	test "$resumed" -ge 1 && test "$resumed" -lt "$connects" &&
	test_grep ! -F "$S3_SECRET_KEY" ../stats
'

test_expect_success 'https: without the CA, the server is not trusted: an error naming it, no request' '
	cd h &&
	cairn remote add --local bare "s3://$S3_BUCKET/proj/tls" &&
	cairn config --local remote.bare.endpoint "$S3_TLS_ENDPOINT" &&
	before=$(s3_requests) &&
	test_must_fail cairn fetch -r bare 2>err && log_out err &&
	test_grep "^error: remote .bare.: $S3_TLS_ENDPOINT: the server.s TLS certificate is not trusted: SSL certificate problem" err &&
	test_grep "remote.bare.ca-bundle or AWS_CA_BUNDLE" err &&
	test_line_count = 1 err &&
	test "$(s3_requests)" = "$before"
'

test_expect_success 'https: a CA that did not sign the certificate, a name the certificate does not have: refused' '
	cd h &&
	cairn config --local remote.bare.ca-bundle "$S3_OTHER_CA" &&
	test_must_fail cairn fetch -r bare 2>err && log_out err &&
	test_grep "^error: remote .bare.: $S3_TLS_ENDPOINT: the server.s TLS certificate is not trusted: .*CA bundle .$S3_OTHER_CA., from remote.bare.ca-bundle" err &&
	cairn config --local remote.bare.ca-bundle "$S3_CA" &&
	cairn fetch -r bare &&
	cairn config --local remote.bare.endpoint "https://elsewhere.cairn.test:$S3_TLS_PORT" &&
	cairn config --local remote.bare.resolve "elsewhere.cairn.test:$S3_TLS_PORT:127.0.0.1" &&
	before=$(s3_requests) &&
	test_must_fail cairn fetch -r bare 2>err && log_out err &&
	test_grep "^error: remote .bare.: https://elsewhere.cairn.test:$S3_TLS_PORT: the server.s TLS certificate is not trusted: .*elsewhere.cairn.test" err &&
	test "$(s3_requests)" = "$before" &&
	cairn remote remove bare
'

test_expect_success 'https: the CA from AWS_CA_BUNDLE, the profile, CURL_CA_BUNDLE, SSL_CERT_FILE, in that order' '
	cd h &&
	cairn remote add --local env "s3://$S3_BUCKET/proj/tls" &&
	cairn config --local remote.env.endpoint "$S3_TLS_ENDPOINT" &&
	test_when_finished "cairn remote remove env; rm -f \"$HOME/.aws/config\"" &&
	for v in AWS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE
	do
		env $v="$S3_CA" cairn fetch -r env || return 1
	done &&
	test_must_fail env AWS_CA_BUNDLE="$S3_OTHER_CA" CURL_CA_BUNDLE="$S3_CA" cairn fetch -r env 2>err &&
	log_out err && test_grep "from AWS_CA_BUNDLE" err &&
	test_must_fail env CURL_CA_BUNDLE="$S3_OTHER_CA" SSL_CERT_FILE="$S3_CA" cairn fetch -r env 2>err &&
	log_out err && test_grep "from CURL_CA_BUNDLE" err &&
	test_must_fail env AWS_CA_BUNDLE=/no/such/ca.pem cairn fetch -r env 2>err &&
	log_out err &&
	test_grep "^error: remote .env.: cannot read the CA bundle ./no/such/ca.pem., from AWS_CA_BUNDLE" err &&
	mkdir -p "$HOME/.aws" &&
	printf "[default]\nca_bundle = %s\n" "$S3_CA" >"$HOME/.aws/config" &&
	cairn fetch -r env &&
	env CURL_CA_BUNDLE="$S3_OTHER_CA" cairn fetch -r env &&
	test_must_fail env AWS_CA_BUNDLE="$S3_OTHER_CA" cairn fetch -r env 2>err &&
	log_out err && test_grep "from AWS_CA_BUNDLE" err &&
	rm "$HOME/.aws/config" &&
	# the setting wins over the environment
	cairn config --local remote.env.ca-bundle "$S3_CA" &&
	env AWS_CA_BUNDLE="$S3_OTHER_CA" cairn fetch -r env &&
	# and the environment is not read for http endpoints
	cairn remote add --local plain "s3://$S3_BUCKET/proj/tls" &&
	test_when_finished "cairn remote remove plain" &&
	cairn config --local remote.plain.endpoint "$S3_ENDPOINT" &&
	env AWS_CA_BUNDLE=/no/such/ca.pem cairn fetch -r plain
'

test_expect_success 'remote.NAME.ca-bundle: ~/ is the home directory; a bad one is an error' '
	cd h &&
	cp "$S3_CA" "$HOME/test-ca.pem" &&
	cairn config remote.tls.ca-bundle "~/test-ca.pem" &&
	test_when_finished "cairn config remote.tls.ca-bundle \"$S3_CA\"" &&
	cairn fetch &&
	cairn config remote.tls.ca-bundle certs/ca.pem &&
	test_must_fail cairn fetch 2>err && log_out err &&
	test_grep "^error: remote .tls.: remote.tls.ca-bundle .certs/ca.pem. is not an absolute path" err &&
	cairn config remote.tls.ca-bundle "$TRASH_DIRECTORY/no-such-ca.pem" &&
	test_must_fail cairn fetch 2>err && log_out err &&
	test_grep "^error: remote .tls.: cannot read the CA bundle .*no-such-ca.pem., from remote.tls.ca-bundle: No such file" err &&
	echo "not a certificate" >"$TRASH_DIRECTORY/junk.pem" &&
	cairn config remote.tls.ca-bundle "$TRASH_DIRECTORY/junk.pem" &&
	test_must_fail cairn fetch 2>err && log_out err &&
	test_grep "^error: remote .tls.: $S3_TLS_ENDPOINT: cannot use the CA bundle .*junk.pem., from remote.tls.ca-bundle" err
'

# virtual-hosted addressing: radosgw has rgw_dns_name = $S3_DNS_NAME, so
# BUCKET.$S3_DNS_NAME names the bucket; a .test name resolves nowhere
test_expect_success 'virtual-hosted addressing: the host is not found until remote.NAME.resolve names it' '
	cd h &&
	cairn remote add virt "s3://$S3_BUCKET/proj/virt" &&
	cairn config remote.virt.endpoint "https://$S3_DNS_NAME:$S3_TLS_PORT" &&
	cairn config remote.virt.addressing virtual &&
	cairn config remote.virt.ca-bundle "$S3_CA" &&
	test_must_fail cairn push -r virt 2>err && log_out err &&
	test_grep "^error: remote .virt.: .* (https://$S3_BUCKET.$S3_DNS_NAME:$S3_TLS_PORT): Could not resolve host: $S3_BUCKET.$S3_DNS_NAME" err &&
	cairn config remote.virt.resolve "$S3_BUCKET.$S3_DNS_NAME:$S3_TLS_PORT:127.0.0.1" &&
	git add -A && git commit -qm "remote virt"
'

test_expect_success 'virtual-hosted addressing: push and pull byte-identical, the bucket in the host name' '
	cd h &&
	start=$(s3_requests) &&
	cairn push -r virt -j 4 >out 2>&1 && log_out out &&
	test_grep "^pushed" out &&
	grep "beast: " "$S3_LOG" | sed "1,${start}d" >../reqs &&
	test_grep "\"PUT /proj/virt/packs/[0-9a-f]*\.pack HTTP/1.1\" 200" ../reqs &&
	test_grep "\"GET /?delimiter=%2F&list-type=2&prefix=proj%2Fvirt%2Fpacks%2F HTTP/1.1\" 200" ../reqs &&
	test_grep ! " /$S3_BUCKET/" ../reqs &&
	git clone -q . ../h4 && cd ../h4 &&
	cairn pull -r virt -j 4 >out 2>&1 && log_out out &&
	for d in d1 d2 d3; do same_tree ../h/$d $d || return 1; done
'

test_expect_success 'virtual-hosted addressing: the AWS CLI set to it gets what cairn sent' '
	printf "[default]\ns3 =\n    addressing_style = virtual\n" >aws-virtual.cfg &&
	start=$(s3_requests) &&
	AWS_CONFIG_FILE=$PWD/aws-virtual.cfg s3_aws_resolving --ca-bundle "$S3_CA" \
		--endpoint-url "https://$S3_DNS_NAME:$S3_TLS_PORT" \
		s3 cp --recursive "s3://$S3_BUCKET/proj/virt/" virt/ >/dev/null &&
	grep "beast: " "$S3_LOG" >reqs &&
	sed "1,${start}d" reqs >cli.reqs &&
	test_grep "\"GET /?list-type=2&prefix=proj%2Fvirt%2F[^ ]* HTTP/1.1\" 200 .*aws-cli" cli.reqs &&
	test_grep ! " /$S3_BUCKET" cli.reqs &&
	# the objects cairn PUT there (virtual-hosted too), no other
	sed -n "1,${start}s|.*\"PUT /proj/virt/\([^ ?]*[^/ ?]\) HTTP/1.1\" 200 .*|\1|p" reqs |
		sort >put.keys &&
	(cd virt && find . -type f | sed "s|^\./||" | sort) >got.keys &&
	test_cmp put.keys got.keys &&
	grep "^packs/.*\.pack$" got.keys >packs &&
	test_line_count -ge 3 packs &&
	s3_cmp_packs virt/packs h/.cairn/store/packs 3
'

test_expect_success 'bad remote.NAME.resolve and addressing values: an error naming the setting' '
	cd h &&
	for v in "h:443" "h:0:127.0.0.1" "h:65536:127.0.0.1" "h:x:127.0.0.1" "h:443:localhost" \
		"h:443:::1" "h:443:127.0.0.1," ".h:443:127.0.0.1" "h_x:443:127.0.0.1" \
		"ok:443:127.0.0.1 bad"
	do
		cairn config remote.virt.resolve "$v" &&
		test_must_fail cairn fetch -r virt 2>err && log_out err &&
		test_grep "^error: remote .virt.: remote.virt.resolve: .* is not HOST:PORT:ADDRESS" err ||
		return 1
	done &&
	cairn config remote.virt.resolve "a.b:1:10.0.0.1,[::1]  $S3_BUCKET.$S3_DNS_NAME:$S3_TLS_PORT:127.0.0.1" &&
	cairn fetch -r virt &&
	cairn config remote.virt.addressing virtually &&
	test_must_fail cairn fetch -r virt 2>err && log_out err &&
	test_grep "^error: remote .virt.: addressing .virtually. is neither .path. nor .virtual." err &&
	git checkout -q .cairn/config &&
	cairn fetch -r virt
'

test_expect_success 'cairn help remote documents ca-bundle and resolve' '
	cairn help remote >help.out &&
	test_grep "^remote.NAME.ca-bundle" help.out &&
	test_grep "^remote.NAME.resolve" help.out &&
	test_grep "AWS_CA_BUNDLE" help.out
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
