#!/bin/sh

test_description='remotes over SSH against a real sshd on 127.0.0.1

The server is OpenSSH with per-run host and user keys, started by the test
and stopped by PID. The shared backend suite runs against it; then push
and pull between two clones, host key checks, refused authentication, an
unreachable host, a missing remote path, interrupted transfers, two
pushes at once and a corrupted pack on the server.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"

start_sshd

test_expect_success 'the shared backend suite passes over ssh' '
	CAIRN_TEST_BACKEND_URL="ssh://testhost$SSH_ROOT/suite" &&
	export CAIRN_TEST_BACKEND_URL &&
	"$CAIRN_BUILD_DIR/t/unit/backend-test" >suite.out 2>&1 &&
	unset CAIRN_TEST_BACKEND_URL &&
	test_grep ! "^not ok" suite.out &&
	test_grep "^1\.\.28" suite.out
'

test_expect_success 'setup: repository A with data, remote over ssh' '
	git init -q a && cd a &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir -p data/sub &&
	for i in 1 2 3 4 5; do make_random data/f$i 200000 $i || return 1; done &&
	echo small >data/sub/s.txt && : >data/empty && ln -s f1 data/link &&
	make_random model.bin 1500000 9 &&
	cairn add -q data model.bin &&
	cairn remote add origin "testhost:$SSH_ROOT/proj" &&
	git add -A && git commit -qm v1
'

test_expect_success 'push over ssh, then a second push sends nothing' '
	cd a &&
	cairn push -q &&
	test_path_is_file "$SSH_ROOT/proj/cairn-remote" &&
	ls "$SSH_ROOT/proj/packs" | grep -c "\.idx$" >nidx && test "$(cat nidx)" -ge 1 &&
	cairn push >out && test_grep "^pushed 0 objects" out
'

test_expect_success 'a clone pulls byte-identical data' '
	git clone -q a b && cd b &&
	cairn pull -q &&
	diff -r data ../a/data && cmp model.bin ../a/model.bin &&
	test "$(readlink data/link)" = f1 &&
	cairn status >out && test_grep "match" out
'

test_expect_success 'the ssh:// form of the URL works too (fetch of one path)' '
	git clone -q a c && cd c &&
	cairn remote add -d direct "ssh://$SSH_USER@$SSH_HOST:$SSH_PORT$SSH_ROOT/proj" &&
	cp "$HOME/.ssh/config" config.saved &&
	printf "Host %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n" "$SSH_HOST" "$SSH_KEY" "$SSH_KNOWN_HOSTS" >>"$HOME/.ssh/config" &&
	cairn fetch -q model.bin &&
	test_path_is_missing model.bin &&
	cairn checkout -q model.bin && cmp model.bin ../a/model.bin &&
	cp config.saved "$HOME/.ssh/config"
'

test_expect_success 'an unknown host key is refused with its fingerprint' '
	test_when_finished "cp \"$SSH_KNOWN_HOSTS.saved\" \"$SSH_KNOWN_HOSTS\"" &&
	cp "$SSH_KNOWN_HOSTS" "$SSH_KNOWN_HOSTS.saved" &&
	: >"$SSH_KNOWN_HOSTS" &&
	cd b && rm -rf .cairn/store && cairn init >/dev/null &&
	test_must_fail cairn fetch 2>err &&
	test_grep "^error: ssh: unknown host" err &&
	test_grep "SHA256:" err &&
	test_grep "ssh-keyscan" err
'

test_expect_success 'a changed host key is refused loudly' '
	test_when_finished "cp \"$SSH_KNOWN_HOSTS.saved\" \"$SSH_KNOWN_HOSTS\"" &&
	cp "$SSH_KNOWN_HOSTS" "$SSH_KNOWN_HOSTS.saved" &&
	ssh-keygen -q -t ed25519 -N "" -f otherhost &&
	printf "[%s]:%s %s\n" "$SSH_HOST" "$SSH_PORT" "$(cut -d" " -f1,2 otherhost.pub)" >"$SSH_KNOWN_HOSTS" &&
	cd b &&
	test_must_fail cairn fetch 2>err &&
	test_grep "HOST KEY .* HAS CHANGED" err
'

test_expect_success 'a key the server does not know: authentication refused' '
	test_when_finished "cp \"$HOME/.ssh/config.saved\" \"$HOME/.ssh/config\"" &&
	cp "$HOME/.ssh/config" "$HOME/.ssh/config.saved" &&
	ssh-keygen -q -t ed25519 -N "" -f strangerkey &&
	sed "s|IdentityFile .*|IdentityFile $TRASH_DIRECTORY/strangerkey|" "$HOME/.ssh/config.saved" >"$HOME/.ssh/config" &&
	cd b &&
	test_must_fail cairn fetch 2>err &&
	test_grep "^error: ssh .*authentication refused" err
'

test_expect_success 'authentication through ssh-agent, with no key file configured' '
	test_when_finished "cp \"$HOME/.ssh/config.saved\" \"$HOME/.ssh/config\"; kill \$SSH_AGENT_PID 2>/dev/null || :" &&
	cp "$HOME/.ssh/config" "$HOME/.ssh/config.saved" &&
	grep -v IdentityFile "$HOME/.ssh/config.saved" >"$HOME/.ssh/config" &&
	eval "$(ssh-agent -s)" >/dev/null &&
	ssh-add -q "$SSH_KEY" 2>/dev/null &&
	cd b && rm -rf .cairn/store && cairn init >/dev/null &&
	cairn fetch -q model.bin &&
	cairn checkout -q model.bin && cmp model.bin ../a/model.bin &&
	kill $SSH_AGENT_PID && unset SSH_AUTH_SOCK SSH_AGENT_PID &&
	test_must_fail cairn fetch -q 2>err &&
	test_grep "authentication refused" err
'

test_expect_success 'a passphrase-protected key without a terminal: refused, not hung' '
	test_when_finished "cp \"$HOME/.ssh/config.saved\" \"$HOME/.ssh/config\"" &&
	cp "$HOME/.ssh/config" "$HOME/.ssh/config.saved" &&
	cp "$SSH_KEY" locked && chmod 600 locked &&
	ssh-keygen -q -p -P "" -N "sesame" -f locked &&
	sed "s|IdentityFile .*|IdentityFile $TRASH_DIRECTORY/locked|" "$HOME/.ssh/config.saved" >"$HOME/.ssh/config" &&
	cd b &&
	test_must_fail cairn fetch -q </dev/null 2>err &&
	test_grep "authentication refused" err
'

test_lazy_prereq SCRIPT 'command -v script'

test_expect_success SCRIPT 'a passphrase-protected key on a terminal: asked once, for every connection' '
	test_when_finished "cp \"$HOME/.ssh/config.saved\" \"$HOME/.ssh/config\"" &&
	cp "$HOME/.ssh/config" "$HOME/.ssh/config.saved" &&
	sed "s|IdentityFile .*|IdentityFile $TRASH_DIRECTORY/locked|" "$HOME/.ssh/config.saved" >"$HOME/.ssh/config" &&
	cd b && rm -rf .cairn/store && cairn init >/dev/null &&
	{ sleep 1 && echo sesame; } | script -qec "cairn fetch -j 4 -q" /dev/null >tty.out 2>&1 &&
	test "$(grep -c "Enter passphrase" tty.out)" = 1 &&
	cairn checkout -q model.bin && cmp model.bin ../a/model.bin
'

test_expect_success 'an unreachable host: a clear error, quickly' '
	cd b &&
	cairn remote add nowhere "ssh://127.0.0.1:1/srv/x" &&
	test_must_fail cairn fetch -r nowhere 2>err &&
	test_grep "^error: ssh .*cannot connect" err
'

test_expect_success 'a remote path that holds no cairn data: a clear error' '
	cd b &&
	cairn remote add empty "testhost:$SSH_ROOT/no-such-dir" &&
	test_must_fail cairn pull -r empty 2>err &&
	test_grep "^error: remote .empty. .* holds no cairn data" err
'

test_expect_success 'a corrupted pack on the server: pull fails, nothing wrong is written' '
	git clone -q a d && cd d &&
	for p in "$SSH_ROOT"/proj/packs/*.pack; do cp "$p" "$p.orig"; done &&
	test_when_finished "for p in \"$SSH_ROOT\"/proj/packs/*.pack.orig; do mv \"\$p\" \"\${p%.orig}\"; done" &&
	for p in "$SSH_ROOT"/proj/packs/*.pack; do
		size=$(wc -c <"$p") &&
		printf "\377" | dd of="$p" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null || return 1
	done &&
	test_must_fail cairn pull 2>err &&
	test_grep "^error: remote .origin.: .* is corrupt\|does not match" err &&
	for f in data/f1 data/f2 data/f3 data/f4 data/f5 model.bin; do
		if test -e "$f"; then cmp "$f" "../a/$f" || return 1; fi
	done
'

test_expect_success 'kill -9 in the middle of a push and of a pull; the re-runs complete' '
	cd a &&
	mkdir big && for i in 1 2 3 4 5 6; do make_random big/b$i 2000000 $((20 + i)) || return 1; done &&
	cairn add -q big && git add -A && git commit -qm big &&
	{ cairn push -q & pid=$!; } && sleep 0.3 && { kill -9 $pid 2>/dev/null || :; } && { wait $pid || :; } &&
	cairn push -q &&
	cd .. && git clone -q a b2 && cd b2 &&
	{ cairn pull -q & pid=$!; } && sleep 0.3 && { kill -9 $pid 2>/dev/null || :; } && { wait $pid || :; } &&
	cairn pull -q &&
	diff -r big ../a/big
'

test_expect_success 'two clones push to one remote at the same time; a third pulls both' '
	git clone -q a e && git clone -q a f &&
	# different parents: each add appends to its own .gitignore
	(cd e && mkdir -p pe/de && make_random pe/de/x 3000000 31 && cairn add -q pe/de && git add -A && git commit -qm e) &&
	(cd f && mkdir -p pf/df && make_random pf/df/y 3000000 32 && cairn add -q pf/df && git add -A && git commit -qm f) &&
	{ (cd e && cairn push -q) & p1=$!; } &&
	{ (cd f && cairn push -q) & p2=$!; } &&
	wait $p1 && wait $p2 &&
	git clone -q e g && cd g && git pull -q --no-rebase --no-edit ../f main &&
	cairn pull -q &&
	cmp pe/de/x ../e/pe/de/x && cmp pf/df/y ../f/pf/df/y
'

test_expect_success ROOT 'the remote disk is full: a clear error, and the re-run after space is freed completes' '
	mkdir -p "$SSH_ROOT/small" &&
	mount -t tmpfs -o size=3m tmpfs "$SSH_ROOT/small" &&
	test_when_finished "umount \"$SSH_ROOT/small\"" &&
	git clone -q a h && cd h &&
	cairn pull -q &&
	cairn remote add -d tiny "testhost:$SSH_ROOT/small/r" &&
	test_must_fail cairn push -q 2>err &&
	test_grep "^error: ssh .*disk is full\|^error: ssh .*disk full" err &&
	umount "$SSH_ROOT/small" && mount -t tmpfs -o size=64m tmpfs "$SSH_ROOT/small" &&
	cairn push -q &&
	cd .. && git clone -q h h2 && cd h2 && cairn pull -q && diff -r big ../a/big
'

test_expect_success 'the connection drops in the middle of a push: an error, then the re-run completes' '
	git clone -q a k && cd k &&
	cairn remote add -d drop "testhost:$SSH_ROOT/drop" &&
	mkdir -p more && for i in 1 2 3 4 5 6 7 8; do make_random more/m$i 3000000 $((40 + i)) || return 1; done &&
	cairn add -q more &&
	{ cairn push -q -j 1 more 2>err & pid=$!; } &&
	n=0 && while test $n -lt 200 && ! ls "$SSH_ROOT"/drop/packs/.tmp-* >/dev/null 2>&1; do sleep 0.01; n=$((n + 1)); done &&
	{ pkill -P "$SSH_PID" || :; } &&
	{ wait $pid && echo "push survived" >survived || :; } &&
	if test -f survived; then :; else test_grep "^error: ssh " err; fi &&
	cairn push -q more &&
	cd .. && git -C k add -A && git -C k commit -qm more && git clone -q k k2 && cd k2 &&
	cairn remote default drop && cairn pull -q more && diff -r more ../k/more
'

test_done
