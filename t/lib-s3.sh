# lib-s3.sh: a real S3 server on 127.0.0.1 for the tests that need one
# (sourced after lib.sh): Ceph's RADOS Gateway on a one-node Ceph cluster,
# objects in RAM, cephx on (t/s3-start, a copy of the shared recipe).
# start_s3 starts it once per script in the trash directory, exports its
# settings (S3_* and AWS_* for the AWS CLI) and stops it by PID when the
# script ends. A missing server is an error in CI (CAIRN_TEST_NO_SKIP=1).

start_s3 () {
	for tool in ceph-mon ceph-osd radosgw radosgw-admin uuidgen curl aws
	do
		if ! command -v $tool >/dev/null
		then
			skip_all="$tool not installed (apt-get install ceph-mon ceph-osd radosgw uuid-runtime curl awscli)"
			test_done
		fi
	done
	s3_dir="$TRASH_DIRECTORY/s3"
	if ! s3_env=$(bash "$TEST_DIRECTORY/s3-start" "$s3_dir" 2>"$TRASH_DIRECTORY/s3-start.err")
	then
		cat "$TRASH_DIRECTORY/s3-start.err" >&2
		skip_all='could not start radosgw'
		test_done
	fi
	eval "$s3_env"
	test_atexit 'bash "$TEST_DIRECTORY/s3-stop" "$s3_dir" >/dev/null 2>&1'
	export S3_ENDPOINT S3_HOST S3_PORT S3_REGION S3_BUCKET S3_ACCESS_KEY S3_SECRET_KEY \
		S3_PID S3_LOG S3_CEPH_CONF AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
		AWS_DEFAULT_REGION AWS_REGION
	# cairn finds the server through its remote's config in the tests;
	# the shared backend suite (no config) through AWS_ENDPOINT_URL
	unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN
}

# The AWS CLI (Debian's awscli, an independent client) against the server.
s3_aws () {
	if test -x /usr/bin/aws
	then
		/usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"
	else
		aws --endpoint-url "$S3_ENDPOINT" "$@"
	fi
}

# Requests radosgw has answered so far (one "beast:" line each).
s3_requests () {
	grep -c "beast: " "$S3_LOG" || :
}

# Requests so far whose log line holds the string $1.
s3_count () {
	grep -c -F "$1" "$S3_LOG" || :
}

# Kill radosgw alone (the cluster, and so the objects, stay) and start it
# again on the same port.
s3_kill_rgw () {
	kill -9 "$S3_PID" &&
	while kill -0 "$S3_PID" 2>/dev/null; do sleep 0.05; done
}

s3_restart_rgw () {
	setsid radosgw -c "$S3_CEPH_CONF" -n client.rgw.s3 -f </dev/null \
		>>"$s3_dir/ceph/log/rgw.out" 2>&1 &
	S3_PID=$!
	echo $S3_PID >"$s3_dir/run/rgw.pid"
	for i in $(test_seq 1 300)
	do
		code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 2 "$S3_ENDPOINT/" || :)
		test "$code" = 200 && return 0
		sleep 0.1
	done
	return 1
}
