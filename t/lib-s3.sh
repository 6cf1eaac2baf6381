# lib-s3.sh: a real S3 server on 127.0.0.1 for the tests that need one
# (sourced after lib.sh): Ceph's RADOS Gateway on a one-node Ceph cluster,
# objects in RAM, cephx on (t/s3-start, a copy of the shared recipe).
# start_s3 starts it once per script in the trash directory, exports its
# settings (S3_* and AWS_* for the AWS CLI) and stops it by PID when the
# script ends. A missing server is an error in CI (CAIRN_TEST_NO_SKIP=1).
#
# `start_s3 tls` adds an https endpoint on another port of the same radosgw,
# with a certificate from a CA made for the script (s3_make_certs), and
# rgw_dns_name, so that BUCKET.$S3_DNS_NAME is virtual-hosted addressing.
# It exports S3_TLS_ENDPOINT, S3_TLS_PORT, S3_DNS_NAME, S3_CA (the CA's
# certificate) and S3_OTHER_CA (a CA that signed nothing the server has).

S3_DNS_NAME=s3.cairn.test

# s3_make_certs DIR: a throwaway CA and a server certificate it signs for
# 127.0.0.1, localhost, $S3_DNS_NAME and *.$S3_DNS_NAME (DIR/ca.pem,
# DIR/server.pem, DIR/server.key), and a second CA (DIR/other-ca.pem).
# .test names never resolve (RFC 6761): clients are told the address.
s3_make_certs () {
	mkdir -p "$1" &&
	(
		cd "$1" &&
		for ca in ca other-ca
		do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-days 2 -subj "/CN=cairn test $ca" -keyout $ca.key -out $ca.pem \
				-addext "basicConstraints=critical,CA:TRUE" \
				-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || exit 1
		done &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=$S3_DNS_NAME" -keyout server.key -out server.csr 2>/dev/null &&
		printf "%s\n" "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
			"extendedKeyUsage=serverAuth" \
			"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:$S3_DNS_NAME,DNS:*.$S3_DNS_NAME" >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -extfile server.ext -out server.pem 2>/dev/null &&
		chmod 644 server.key
	)
}

start_s3 () {
	for tool in ceph-mon ceph-osd radosgw radosgw-admin uuidgen curl aws ${1:+openssl}
	do
		if ! command -v $tool >/dev/null
		then
			skip_all="$tool not installed (apt-get install ceph-mon ceph-osd radosgw uuid-runtime curl awscli)"
			test_done
		fi
	done
	s3_dir="$TRASH_DIRECTORY/s3"
	unset S3_TLS_CERT S3_TLS_KEY S3_CA S3_OTHER_CA S3_TLS_ENDPOINT S3_TLS_PORT
	if test "$1" = tls
	then
		if ! s3_make_certs "$TRASH_DIRECTORY/certs"
		then
			echo "cannot make the test certificates with openssl" >&2
			skip_all='openssl failed'
			test_done
		fi
		S3_CA=$TRASH_DIRECTORY/certs/ca.pem
		S3_OTHER_CA=$TRASH_DIRECTORY/certs/other-ca.pem
		export S3_CA S3_OTHER_CA
	fi
	if ! s3_env=$(S3_TLS_CERT=${S3_CA:+$TRASH_DIRECTORY/certs/server.pem} \
		S3_TLS_KEY=${S3_CA:+$TRASH_DIRECTORY/certs/server.key} \
		S3_DNS_NAME=${S3_CA:+$S3_DNS_NAME} \
		bash "$TEST_DIRECTORY/s3-start" "$s3_dir" 2>"$TRASH_DIRECTORY/s3-start.err")
	then
		cat "$TRASH_DIRECTORY/s3-start.err" >&2
		skip_all='could not start radosgw'
		test_done
	fi
	eval "$s3_env"
	test_atexit 'bash "$TEST_DIRECTORY/s3-stop" "$s3_dir" >/dev/null 2>&1'
	export S3_ENDPOINT S3_HOST S3_PORT S3_REGION S3_BUCKET S3_ACCESS_KEY S3_SECRET_KEY \
		S3_PID S3_LOG S3_CEPH_CONF AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
		AWS_DEFAULT_REGION AWS_REGION S3_DNS_NAME
	test -z "$S3_TLS_PORT" || export S3_TLS_PORT S3_TLS_ENDPOINT
	# cairn finds the server through its remote's config in the tests;
	# the shared backend suite (no config) through AWS_ENDPOINT_URL.
	# Which CAs are trusted is up to each test.
	unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE \
		AWS_SHARED_CREDENTIALS_FILE AWS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
}

# The AWS CLI resolving *.$S3_DNS_NAME (a .test name, which resolves
# nowhere) to 127.0.0.1, as cairn does with remote.NAME.resolve: a
# sitecustomize.py on PYTHONPATH wraps socket.getaddrinfo.
s3_aws_resolving () {
	mkdir -p "$TRASH_DIRECTORY/pyresolve" &&
	cat >"$TRASH_DIRECTORY/pyresolve/sitecustomize.py" <<-EOF &&
	import socket
	_getaddrinfo = socket.getaddrinfo
	def getaddrinfo(host, *args, **kwargs):
	    if isinstance(host, str) and (host == "$S3_DNS_NAME" or host.endswith(".$S3_DNS_NAME")):
	        host = "127.0.0.1"
	    return _getaddrinfo(host, *args, **kwargs)
	socket.getaddrinfo = getaddrinfo
	EOF
	PYTHONPATH="$TRASH_DIRECTORY/pyresolve${PYTHONPATH:+:$PYTHONPATH}" aws "$@"
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

# s3_cmp_packs DIR PACKDIR MIN: each file in DIR (packs and indexes a
# client downloaded) that PACKDIR has too holds the same bytes there, and
# at least MIN do.
s3_cmp_packs () {
	s3_cmp_same=0 &&
	for f in "$1"/*
	do
		if test -f "$2/${f##*/}"
		then
			cmp "$f" "$2/${f##*/}" && s3_cmp_same=$((s3_cmp_same + 1)) || return 1
		fi || return 1
	done &&
	test "$s3_cmp_same" -ge "$3"
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
