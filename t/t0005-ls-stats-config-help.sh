#!/bin/sh

test_description='cairn ls, stats, config, help and version'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# ls_json_files <json: "mode size id sha256 path" per file of a
# `cairn ls --json` object (Documentation/cairn-ls.md: "entries").
ls_json_files () {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
for e in d["entries"]:
    print(e["mode"], e["size"], e["id"], e["sha256"], e["path"])
'
}

sha256_of () {
	python3 -c '
import hashlib, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())
' "$1"
}

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		cairn init >/dev/null &&
		cairn stats --json >../stats-empty &&
		mkdir -p data/train/sub models &&
		echo alpha >data/train/a.txt &&
		make_random data/train/b.bin 150000 1 &&
		printf "#!/bin/sh\n" >data/train/sub/run &&
		chmod 755 data/train/sub/run &&
		: >data/train/empty &&
		make_random models/w.bin 70000 2 &&
		cairn add -q data/train models/w.bin &&
		git add -A &&
		git commit -q -m v1
	)
'

test_expect_success 'ls lists the files with modes, sizes and ids' '
	(
		cd repo &&
		cairn ls data/train >../out
	) &&
	sed -e "s/ [0-9a-f]\{32\}  / ID  /" -e "s/  */ /g" out >actual &&
	cat >expect <<-\EOF &&
	100644 6 ID a.txt
	100644 150000 ID b.bin
	100644 0 ID empty
	100755 10 ID sub/run
	EOF
	test_cmp expect actual
'

test_expect_success 'ls of the pointer file is the same' '
	(
		cd repo &&
		cairn ls data/train.cairn >../out2 &&
		cd data &&
		cairn ls train >../../out3
	) &&
	test_cmp out out2 &&
	test_cmp out out3
'

test_expect_success 'the ids of ls match ls --json, the sha256s match the files' '
	(
		cd repo &&
		cairn ls --json data/train >../ls.json
	) &&
	ls_json_files <ls.json >files &&
	awk "{ print \$3, \$5 }" files >json-ids &&
	awk "{ print \$3, \$4 }" out >text-ids &&
	test_cmp text-ids json-ids &&
	while read mode size id sha path
	do
		test "$sha" = "$(sha256_of "repo/data/train/$path")" &&
		test "$size" = "$(wc -c <"repo/data/train/$path")" || return 1
	done <files
'

test_expect_success 'the id of a file in a tree is the id of the same file added alone' '
	mkdir -p repo/single &&
	cp repo/data/train/b.bin repo/single/b.bin &&
	(
		cd repo &&
		cairn add -q single/b.bin
	) &&
	grep " b.bin$" files >line &&
	read mode size id sha path <line &&
	test "$id" = "$(ptr_val repo/single/b.bin.cairn id)" &&
	test "$sha" = "$(ptr_val repo/single/b.bin.cairn sha256)"
'

test_expect_success 'ls of a single file pointer' '
	(
		cd repo &&
		cairn ls models/w.bin >../out &&
		cairn ls --json models/w.bin.cairn >../w.json
	) &&
	id=$(ptr_val repo/models/w.bin.cairn id) &&
	echo "100644 70000 $id w.bin" >expect &&
	sed -e "s/  */ /g" out >actual &&
	test_cmp expect actual &&
	ls_json_files <w.json >actual &&
	echo "100644 70000 $id $(sha256_of repo/models/w.bin) w.bin" >expect &&
	test_cmp expect actual
'

test_expect_success 'ls --json: no duplicate keys, the documented fields' '
	python3 -c "
import json, sys
def no_dups(pairs):
    keys = [k for k, v in pairs]
    if len(keys) != len(set(keys)):
        sys.exit(\"duplicate keys: %r\" % keys)
    return dict(pairs)
d = json.load(open(\"ls.json\"), object_pairs_hook=no_dups)
assert isinstance(d[\"entries\"], list), d
assert d[\"type\"] == \"dir\", d
assert d[\"file_count\"] == 4 == len(d[\"entries\"]), d
assert d[\"size\"] == sum(e[\"size\"] for e in d[\"entries\"]), d
"
'

test_expect_success 'ls of an older version lists its files, not the work tree' '
	(
		cd repo &&
		echo v2 >data/train/new.txt &&
		rm data/train/b.bin &&
		cairn add -q data/train &&
		git commit -q -a -m v2 &&
		cairn ls data/train >../v2 &&
		git checkout -q HEAD~1 -- data/train.cairn &&
		cairn ls data/train >../v1 &&
		git checkout -q HEAD -- data/train.cairn
	) &&
	test_cmp out3 v1 &&
	test_grep "new.txt$" v2 &&
	test_grep ! "b.bin$" v2
'

test_expect_success 'ls errors: no path, two paths, untracked path' '
	(
		cd repo &&
		expect_code 129 cairn ls 2>../err1 &&
		expect_code 129 cairn ls data/train models/w.bin 2>../err2 &&
		expect_code 129 cairn ls --frob data/train 2>../err3 &&
		test_must_fail cairn ls no-such-path 2>../err4 >../out4
	) &&
	test_grep "^usage: cairn ls" err1 &&
	test_grep "^usage: cairn ls" err2 &&
	test_grep "^usage: cairn ls" err3 &&
	test_grep "^error: .*no-such-path" err4 &&
	test_must_be_empty out4
'

test_expect_success 'stats of an empty store: all zero' '
	for k in chunks packs stored_bytes logical_bytes unique_bytes tracked_paths
	do
		test "$(json_get stats-empty $k)" = 0 || return 1
	done
'

test_expect_success 'stats --json: numbers, consistent after an add' '
	(
		cd repo &&
		cairn stats --json >../stats.json
	) &&
	chunks=$(json_get stats.json chunks) &&
	packs=$(json_get stats.json packs) &&
	stored=$(json_get stats.json stored_bytes) &&
	logical=$(json_get stats.json logical_bytes) &&
	unique=$(json_get stats.json unique_bytes) &&
	tracked=$(json_get stats.json tracked_paths) &&
	test $packs -ge 1 &&
	test $chunks -ge 3 &&
	test $stored -gt 0 &&
	test $unique -gt 0 &&
	test $tracked = 3 &&
	sum=0 &&
	for p in data/train.cairn models/w.bin.cairn single/b.bin.cairn
	do
		sum=$((sum + $(ptr_val repo/$p size))) || return 1
	done &&
	test $logical = $sum &&
	test $unique -ge $((150000 + 70000)) &&
	test $stored -ge $((150000 + 70000))
'

test_expect_success 'the same bytes under another path are not stored again' '
	cp -R repo/data/train repo/copy &&
	(
		cd repo &&
		cairn add -q copy &&
		cairn stats --json >../stats2.json
	) &&
	test $(json_get stats2.json chunks) = $(json_get stats.json chunks) &&
	test $(json_get stats2.json unique_bytes) = $(json_get stats.json unique_bytes) &&
	test $(json_get stats2.json logical_bytes) -gt $(json_get stats.json logical_bytes) &&
	test $(json_get stats2.json stored_bytes) -lt $(($(json_get stats.json stored_bytes) + 10000))
'

test_expect_success 'stats in text says the same' '
	(
		cd repo &&
		cairn stats >../stats.txt
	) &&
	test_grep "^stored bytes: *$(json_get stats2.json stored_bytes) " stats.txt &&
	test_grep "^logical bytes: *$(json_get stats2.json logical_bytes) " stats.txt &&
	test_grep "^tracked paths: *4$" stats.txt
'

test_expect_success 'stats takes no argument' '
	(
		cd repo &&
		expect_code 129 cairn stats extra 2>../err
	) &&
	test_grep "^usage: cairn stats" err
'

test_expect_success 'config gets what init wrote' '
	(
		cd repo &&
		cairn config core.format >../out &&
		cairn config chunker.avg >>../out
	) &&
	printf "1\n65536\n" >expect &&
	test_cmp expect out
'

test_expect_success 'config set, get, unset' '
	(
		cd repo &&
		cairn config compress.level 9 &&
		cairn config compress.level >../out
	) &&
	echo 9 >expect &&
	test_cmp expect out &&
	echo 9 >expect &&
	git config -f repo/.cairn/config compress.level >actual &&
	test_cmp expect actual &&
	(
		cd repo &&
		cairn config --unset compress.level &&
		expect_code 1 cairn config compress.level >../out 2>../err
	) &&
	test_must_be_empty out &&
	test_must_fail git config -f repo/.cairn/config compress.level
'

test_expect_success 'config values round-trip and git reads them' '
	for v in "a b # c" " lead" "trail " "semi;colon" "quo\"te" "" "multi
line"
	do
		(
			cd repo &&
			cairn config user.note "$v" &&
			cairn config user.note >../out
		) &&
		printf "%s\n" "$v" >expect &&
		test_cmp expect out &&
		git config -f repo/.cairn/config user.note >actual &&
		test_cmp expect actual || return 1
	done &&
	(
		cd repo &&
		cairn config --unset user.note
	)
'

test_expect_success 'config --list shows the settings' '
	(
		cd repo &&
		cairn config remote.origin.url ssh://example/x &&
		cairn config --list >../out &&
		cairn config remote.origin.url >../url
	) &&
	test_grep -x "core.format=1" out &&
	test_grep -x "chunker.min=16384" out &&
	test_grep -x "chunker.avg=65536" out &&
	test_grep -x "chunker.max=262144" out &&
	test_grep -x "remote.origin.url=ssh://example/x" out &&
	echo ssh://example/x >expect &&
	test_cmp expect url
'

test_expect_success 'chunker.* and core.format cannot be changed' '
	cp repo/.cairn/config config.before &&
	for args in "chunker.min 1024" "chunker.avg 4096" "chunker.max 1048576" \
		"--unset chunker.avg" "core.format 2" "--unset core.format" \
		"--local chunker.min 1024"
	do
		(
			cd repo &&
			test_must_fail cairn config $args 2>../err
		) &&
		test_grep "^error: .*fixed" err &&
		test_cmp config.before repo/.cairn/config &&
		test_path_is_missing repo/.cairn/config.local || return 1
	done
'

test_expect_success 'a value that breaks the configuration is refused' '
	cp repo/.cairn/config config.before &&
	(
		cd repo &&
		test_must_fail cairn config compress.level 99 2>../err &&
		expect_code 1 cairn config compress.level
	) &&
	test_grep "^error: " err &&
	test_cmp config.before repo/.cairn/config
'

test_expect_success 'config --local wins over .cairn/config and stays out of git' '
	(
		cd repo &&
		cairn config --local remote.origin.url /local/path &&
		cairn config remote.origin.url >../out &&
		git status --porcelain -uall >../git-status
	) &&
	echo /local/path >expect &&
	test_cmp expect out &&
	test_path_is_file repo/.cairn/config.local &&
	test_grep ! "config.local" git-status &&
	test_grep "/local/path" repo/.cairn/config.local &&
	test_grep ! "/local/path" repo/.cairn/config
'

test_expect_success 'config --user writes under $HOME and loses to the repository' '
	(
		cd repo &&
		cairn config --user user.only yes &&
		cairn config --user remote.origin.url /user/path &&
		cairn config user.only >../out1 &&
		cairn config remote.origin.url >../out2
	) &&
	test_grep "only = yes" "$HOME/.config/cairn/config" &&
	echo yes >expect &&
	test_cmp expect out1 &&
	echo /local/path >expect &&
	test_cmp expect out2
'

test_expect_success 'config.local holds credentials: owner-only, whatever the umask' '
	rm -f repo/.cairn/config.local &&
	(
		cd repo &&
		umask 022 &&
		cairn config --local remote.origin.secret-access-key s3cr3t
	) &&
	echo 600 >expect &&
	stat -c %a repo/.cairn/config.local >actual &&
	test_cmp expect actual &&
	chmod 644 repo/.cairn/config.local &&
	(cd repo && cairn config --local remote.origin.url /local/path) &&
	stat -c %a repo/.cairn/config.local >actual &&
	test_cmp expect actual
'

test_expect_success 'a config edit keeps the mode of the file' '
	chmod 640 repo/.cairn/config &&
	(cd repo && cairn config user.mode kept) &&
	echo 640 >expect &&
	stat -c %a repo/.cairn/config >actual &&
	test_cmp expect actual &&
	chmod 644 repo/.cairn/config
'

test_expect_success 'config edits at once lose none of them (config.lock)' '
	(
		cd repo &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
		do
			cairn config race.k$i v$i >../race-$i.out 2>&1 &
		done &&
		wait &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
		do
			echo v$i >../expect &&
			cairn config race.k$i >../actual &&
			test_cmp ../expect ../actual || return 1
		done
	) &&
	test_path_is_missing repo/.cairn/config.lock
'

test_expect_success 'a config.lock left by a killed cairn: a clear error, the file untouched' '
	cp repo/.cairn/config config.before &&
	>repo/.cairn/config.lock &&
	(
		cd repo &&
		test_must_fail cairn config user.blocked yes 2>../err &&
		test_must_fail cairn remote add blocked /tmp/nowhere 2>../err2
	) &&
	test_grep "^error: .*config.lock. exists: another cairn is changing" err &&
	test_grep "remove .*config.lock" err &&
	test_grep "^error: .*config.lock" err2 &&
	test_cmp config.before repo/.cairn/config &&
	test_path_is_file repo/.cairn/config.lock &&
	rm repo/.cairn/config.lock &&
	(cd repo && cairn config user.blocked yes && cairn config --unset user.blocked)
'

test_expect_success 'a config.lock older than a minute is stale: taken over' '
	>repo/.cairn/config.lock &&
	touch -d "-2 minutes" repo/.cairn/config.lock &&
	(cd repo && cairn config user.stale taken && cairn config user.stale >../out) &&
	echo taken >expect &&
	test_cmp expect out &&
	test_path_is_missing repo/.cairn/config.lock &&
	(cd repo && cairn config --unset user.stale)
'

test_expect_success 'a config edit that is refused and rolled back leaves no lock behind' '
	cp repo/.cairn/config config.before &&
	(cd repo && test_must_fail cairn config compress.level 99 2>../err) &&
	test_grep "^error: " err &&
	test_path_is_missing repo/.cairn/config.lock &&
	test_cmp config.before repo/.cairn/config
'

test_expect_success 'config errors' '
	(
		cd repo &&
		test_must_fail cairn config nodot 2>../err1 &&
		test_must_fail cairn config nodot value 2>../err2 &&
		expect_code 129 cairn config 2>../err3 &&
		expect_code 129 cairn config a.b c d 2>../err4 &&
		expect_code 129 cairn config --list a.b 2>../err5 &&
		expect_code 129 cairn config --unset a.b c 2>../err6 &&
		expect_code 129 cairn config --frob 2>../err7
	) &&
	test_grep "^error: .*nodot" err1 &&
	test_grep "^error: .*nodot" err2 &&
	for i in 3 4 5 6 7
	do
		test_grep "^usage: cairn config" err$i || return 1
	done
'

test_expect_success 'cairn help lists every command' '
	cairn help >out 2>err &&
	test_must_be_empty err &&
	for c in init add status checkout ls stats config help version
	do
		test_grep "^   $c " out || return 1
	done
'

test_expect_success 'cairn help CMD: the manual has the usage of CMD -h' '
	for c in init add status checkout ls stats config help version
	do
		cairn help $c >help-$c 2>err &&
		test_must_be_empty err &&
		test_file_not_empty help-$c &&
		cairn $c -h >usage-$c 2>err &&
		test_must_be_empty err &&
		test_grep "^usage: cairn $c" usage-$c &&
		sed -e "s/^usage: //" -e "s/^   or: //" usage-$c >synopsis-$c &&
		while IFS= read -r line
		do
			test_grep -F -e "$line" help-$c || return 1
		done <synopsis-$c || return 1
	done
'

test_expect_success 'CMD -h and CMD --help: usage on stdout, exit 0, in a repo too' '
	(
		cd repo &&
		cairn add -h >../out1 2>../err1 &&
		cairn status --help >../out2 2>../err2
	) &&
	test_grep "^usage: cairn add" out1 &&
	test_grep "^usage: cairn status" out2 &&
	test_must_be_empty err1 &&
	test_must_be_empty err2
'

test_lazy_prereq DEVFULL '
	test -c /dev/full && ! echo x >/dev/full 2>/dev/null
'

test_expect_success DEVFULL 'a failed write to stdout is an error' '
	for c in help version "help add" "ls data/train" stats "stats --json" \
		status "status --json" "config --list"
	do
		(
			cd repo &&
			test_must_fail cairn $c >/dev/full 2>../err
		) &&
		test_grep "^error: .*write" err || return 1
	done
'

test_expect_success DEVFULL 'a failed write of the -h usage is an error' '
	for c in add status init
	do
		test_must_fail cairn $c -h >/dev/full 2>err &&
		test_grep "^error: .*write" err || return 1
	done
'

test_expect_success 'help of an unknown command, and an unknown command' '
	test_must_fail cairn help frobnicate >out 2>err &&
	test_grep "^error: .*frobnicate" err &&
	test_must_be_empty out &&
	{ cairn frobnicate >out 2>err; echo $? >code; } &&
	test "$(cat code)" -ge 1 &&
	test "$(cat code)" -le 129 &&
	test_grep "^error: .*frobnicate" err &&
	test_must_be_empty out
'

test_expect_success 'cairn with no command: usage, non-zero' '
	expect_code 129 cairn >out 2>err &&
	test_grep "^usage: cairn" err
'

test_expect_success 'cairn --version and cairn version' '
	cairn --version >out1 &&
	cairn version >out2 &&
	test_grep "^cairn version [0-9][0-9.]*" out1 &&
	test_cmp out1 out2
'

test_done
