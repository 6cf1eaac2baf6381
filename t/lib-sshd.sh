# lib-sshd.sh: a real OpenSSH server on 127.0.0.1 for the tests that need
# one (sourced after lib.sh). start_sshd starts it in the trash directory
# with per-run host and user keys, writes ~/.ssh/config so that the host
# alias "testhost" reaches it with the right key and known_hosts file, and
# stops it (by PID) when the script ends. Missing sshd is an error in CI.

start_sshd () {
	if ! test -x /usr/sbin/sshd || ! command -v ssh-keygen >/dev/null
	then
		skip_all='OpenSSH server not installed (apt-get install openssh-server)'
		test_done
	fi
	sshd_dir="$TRASH_DIRECTORY/sshd"
	if ! sshd_env=$(bash "$TEST_DIRECTORY/sshd-start" "$sshd_dir" 2>"$TRASH_DIRECTORY/sshd-start.err")
	then
		cat "$TRASH_DIRECTORY/sshd-start.err" >&2
		skip_all='could not start sshd'
		test_done
	fi
	eval "$sshd_env"
	test_atexit 'bash "$TEST_DIRECTORY/sshd-stop" "$sshd_dir" >/dev/null 2>&1'
	mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
	cat >"$HOME/.ssh/config" <<-EOF
	Host testhost
	  HostName $SSH_HOST
	  Port $SSH_PORT
	  User $SSH_USER
	  IdentityFile $SSH_KEY
	  UserKnownHostsFile $SSH_KNOWN_HOSTS
	EOF
	export SSH_HOST SSH_PORT SSH_USER SSH_KEY SSH_KNOWN_HOSTS SSH_ROOT SSH_PID
}
