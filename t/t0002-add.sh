#!/bin/sh

test_description='cairn add: pointer files, .gitignore, dedup, special files, bad paths'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

sha256_of () {
	python3 -c '
import hashlib, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())
' "$1"
}

# snapshot: what an add that fails must not change (run in the repo,
# after a commit): new or changed pointers and .gitignores show in git
# status, new objects in the stats and the list of packs.
snapshot () {
	git status --porcelain -uall &&
	cairn stats --json &&
	ls "$(git rev-parse --show-toplevel)/.cairn/store/packs"
}

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		cairn init >/dev/null &&
		mkdir -p data/train/sub models &&
		echo alpha >data/train/a.txt &&
		make_random data/train/b.bin 200000 1 &&
		echo gamma >data/train/sub/c.txt &&
		make_random models/w.bin 100000 2
	)
'

test_expect_success 'add writes a pointer beside each path' '
	(
		cd repo &&
		cairn add data/train models/w.bin >../out 2>../err
	) &&
	test_grep "^added data/train: 3 files" out &&
	test_grep "^added models/w.bin: " out &&
	test_path_is_file repo/data/train.cairn &&
	test_path_is_file repo/models/w.bin.cairn
'

test_expect_success 'a directory pointer has exactly the documented keys' '
	p=repo/data/train.cairn &&
	sed -n "s/^\([^#][^:]*\): .*/\1/p" $p >keys &&
	printf "version\ntype\nhash\nid\nsha256\nsize\nfiles\n" >expect &&
	test_cmp expect keys &&
	{ grep -v "^#" $p | grep -v "^[a-z0-9]*: [^ ]" || :; } >bad-lines &&
	test_must_be_empty bad-lines &&
	test "$(ptr_val $p version)" = 1 &&
	test "$(ptr_val $p type)" = dir &&
	test "$(ptr_val $p hash)" = xxh3-128 &&
	ptr_val $p id | grep -x "[0-9a-f]\{32\}" &&
	ptr_val $p sha256 | grep -x "[0-9a-f]\{64\}" &&
	size=$(cat repo/data/train/a.txt repo/data/train/b.bin repo/data/train/sub/c.txt | wc -c) &&
	test "$(ptr_val $p size)" = $((size)) &&
	test "$(ptr_val $p files)" = 3
'

test_expect_success 'a file pointer has exactly the documented keys' '
	p=repo/models/w.bin.cairn &&
	sed -n "s/^\([^#][^:]*\): .*/\1/p" $p >keys &&
	printf "version\ntype\nhash\nid\nsha256\nsize\nmode\n" >expect &&
	test_cmp expect keys &&
	test "$(ptr_val $p version)" = 1 &&
	test "$(ptr_val $p type)" = file &&
	test "$(ptr_val $p hash)" = xxh3-128 &&
	ptr_val $p id | grep -x "[0-9a-f]\{32\}" &&
	test "$(ptr_val $p sha256)" = "$(sha256_of repo/models/w.bin)" &&
	test "$(ptr_val $p size)" = 100000 &&
	test "$(ptr_val $p mode)" = 644
'

test_expect_success 'add puts the path in the .gitignore beside it' '
	echo /train >expect &&
	test_cmp expect repo/data/.gitignore &&
	echo /w.bin >expect &&
	test_cmp expect repo/models/.gitignore
'

test_expect_success 'git sees the pointers and .gitignores, not the data' '
	(
		cd repo &&
		git status --porcelain -uall >../actual
	) &&
	cat >expect <<-\EOF &&
	?? .cairn/.gitignore
	?? .cairn/config
	?? data/.gitignore
	?? data/train.cairn
	?? models/.gitignore
	?? models/w.bin.cairn
	EOF
	test_cmp expect actual &&
	(
		cd repo &&
		git add -A &&
		git commit -q -m "data v1" &&
		git ls-files >../actual
	) &&
	test_grep ! "^data/train/" actual &&
	test_grep ! "^models/w.bin$" actual
'

test_expect_success 're-adding unchanged data stores nothing and says unchanged' '
	(
		cd repo &&
		cairn stats --json >../stats-before &&
		cp data/train.cairn ../ptr-before &&
		cairn add data/train models/w.bin >../out &&
		cairn stats --json >../stats-after
	) &&
	test_grep "^unchanged data/train" out &&
	test_grep "^unchanged models/w.bin" out &&
	test_grep " 0 new objects" out &&
	test_cmp stats-before stats-after &&
	test_cmp ptr-before repo/data/train.cairn
'

test_expect_success 're-adding does not repeat the .gitignore line' '
	(
		cd repo &&
		cairn add -q data/train &&
		cairn add -q data/train/ &&
		cairn add -q ./data/../data/train
	) &&
	echo /train >expect &&
	test_cmp expect repo/data/.gitignore &&
	(
		cd repo &&
		git status --porcelain >../actual
	) &&
	test_must_be_empty actual
'

test_expect_success 'the same content gives the same pointer bytes in another repo' '
	git init -q other &&
	mkdir -p other/data other/models other/elsewhere &&
	cp -R repo/data/train other/data/train &&
	cp -R repo/data/train other/elsewhere/renamed &&
	cp repo/models/w.bin other/models/w.bin &&
	find other/data other/models other/elsewhere -type f \
		-exec touch -d @1500000000 {} + &&
	(
		cd other &&
		cairn init --chunk-size 1K:4K:16K >/dev/null &&
		cairn add -q elsewhere/renamed models/w.bin data/train
	) &&
	test_cmp repo/data/train.cairn other/data/train.cairn &&
	test_cmp repo/data/train.cairn other/elsewhere/renamed.cairn &&
	test_cmp repo/models/w.bin.cairn other/models/w.bin.cairn
'

test_expect_success 'pointers name no path, user or time' '
	for p in repo/data/train.cairn repo/models/w.bin.cairn
	do
		test_grep ! -F "$TRASH_DIRECTORY" $p &&
		test_grep ! -e train -e w.bin -e / $p &&
		grep -v -e "^id: " -e "^sha256: " $p >no-hashes &&
		test_grep ! -e "20[0-9][0-9]-" -e "[0-9]:[0-9][0-9]" -e "1[0-9]\{9\}" no-hashes || return 1
	done
'

test_expect_success 'changing a file changes the pointer and stores its chunks' '
	(
		cd repo &&
		echo changed >data/train/a.txt &&
		cairn add data/train >../out
	) &&
	test_grep "^added data/train" out &&
	! test_cmp ptr-before repo/data/train.cairn &&
	echo /train >expect &&
	test_cmp expect repo/data/.gitignore
'

test_expect_success 'setup: a larger data set for dedup' '
	git init -q dedup &&
	mkdir -p dedup/set &&
	for i in 1 2 3 4 5 6 7 8
	do
		make_random dedup/set/part$i 262144 $((100 + i)) || return 1
	done &&
	(
		cd dedup &&
		cairn init >/dev/null &&
		cairn add -q set &&
		cairn stats --json >../s1
	)
'

test_expect_success 'modifying one file stores only its new chunks' '
	python3 -c "
f = open(\"dedup/set/part5\", \"r+b\")
f.seek(131072)
f.write(b\"x\" * 100)
" &&
	(
		cd dedup &&
		cairn add -q set &&
		cairn stats --json >../s2
	) &&
	c1=$(json_get s1 chunks) && c2=$(json_get s2 chunks) &&
	b1=$(json_get s1 stored_bytes) && b2=$(json_get s2 stored_bytes) &&
	l1=$(json_get s1 logical_bytes) && l2=$(json_get s2 logical_bytes) &&
	test $l1 = 2097152 && test $l2 = 2097152 &&
	test $c2 -gt $c1 &&
	test $((c2 - c1)) -le 6 &&
	test $b2 -gt $b1 &&
	test $((b2 - b1)) -lt $((l1 / 4))
'

test_expect_success SYMLINKS 'setup: special files in a directory' '
	make_random outside-secret 100000 7 &&
	mkdir -p repo/misc/empty-dir repo/misc/sub &&
	: >repo/misc/empty &&
	printf "#!/bin/sh\necho hi\n" >repo/misc/run.sh &&
	chmod 755 repo/misc/run.sh &&
	echo inner >repo/misc/sub/file &&
	ln -s sub/file repo/misc/link-in &&
	ln -s sub repo/misc/link-dir &&
	ln -s "$TRASH_DIRECTORY/outside-secret" repo/misc/link-out &&
	ln -s no/such/target repo/misc/dangling &&
	cp outside-secret outside-secret.orig &&
	(
		cd repo &&
		cairn stats --json >../stats-before &&
		cairn add misc >../out &&
		cairn stats --json >../stats-after &&
		cairn ls --json misc >../ls.json
	) &&
	test_grep "^added misc: " out
'

# ls_entry FILE PATH: "mode size" of PATH in `cairn ls --json` output.
ls_entry () {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["entries"]:
    if e["path"] == sys.argv[2]:
        print(e["mode"], e["size"])
' "$1" "$2"
}

test_expect_success SYMLINKS 'symlinks are stored as links with their target as content' '
	target="$TRASH_DIRECTORY/outside-secret" &&
	echo "120000 ${#target}" >expect &&
	ls_entry ls.json link-out >actual &&
	test_cmp expect actual &&
	echo "120000 8" >expect &&
	ls_entry ls.json link-in >actual &&
	test_cmp expect actual &&
	echo "120000 3" >expect &&
	ls_entry ls.json link-dir >actual &&
	test_cmp expect actual &&
	echo "120000 14" >expect &&
	ls_entry ls.json dangling >actual &&
	test_cmp expect actual &&
	ls_entry ls.json link-dir/file >actual &&
	test_must_be_empty actual
'

test_expect_success SYMLINKS 'the file outside the repo is not read into the store' '
	u1=$(json_get stats-before unique_bytes) &&
	u2=$(json_get stats-after unique_bytes) &&
	test $((u2 - u1)) -lt 1000 &&
	test_cmp outside-secret.orig outside-secret
'

test_expect_success SYMLINKS 'empty files and the exec bit are recorded' '
	echo "100644 0" >expect &&
	ls_entry ls.json empty >actual &&
	test_cmp expect actual &&
	echo "100755 18" >expect &&
	ls_entry ls.json run.sh >actual &&
	test_cmp expect actual &&
	echo "100644 6" >expect &&
	ls_entry ls.json sub/file >actual &&
	test_cmp expect actual
'

test_expect_success SYMLINKS 'special files come back from the store as they were' '
	cp -R repo/misc misc.orig &&
	rm -rf repo/misc &&
	(
		cd repo &&
		cairn checkout misc >/dev/null
	) &&
	test -h repo/misc/link-out &&
	test "$(readlink repo/misc/link-out)" = "$TRASH_DIRECTORY/outside-secret" &&
	test -h repo/misc/link-dir &&
	test "$(readlink repo/misc/link-dir)" = sub &&
	test -h repo/misc/dangling &&
	test "$(readlink repo/misc/dangling)" = no/such/target &&
	test -h repo/misc/link-in &&
	test_path_is_dir repo/misc/empty-dir &&
	test_path_is_file repo/misc/empty &&
	test_must_be_empty repo/misc/empty &&
	test -x repo/misc/run.sh &&
	! test -x repo/misc/sub/file &&
	diff -r --no-dereference misc.orig repo/misc &&
	test_cmp outside-secret.orig outside-secret
'

test_expect_success 'an executable single file gets mode 755' '
	printf "#!/bin/sh\n" >repo/tool.sh &&
	chmod 755 repo/tool.sh &&
	(
		cd repo &&
		cairn add -q tool.sh
	) &&
	test "$(ptr_val repo/tool.sh.cairn mode)" = 755
'

test_expect_success 'names with spaces, unicode and a leading dash (after --)' '
	mkdir -p "repo/odd/ünï côdé dir" &&
	echo one >"repo/odd/ünï côdé dir/fïle with space" &&
	echo two >"repo/odd/-dash file" &&
	(
		cd repo/odd &&
		cairn add -q -- "-dash file" "ünï côdé dir" &&
		git status --porcelain -uall . >../../actual
	) &&
	test_path_is_file "repo/odd/-dash file.cairn" &&
	test_path_is_file "repo/odd/ünï côdé dir.cairn" &&
	test_grep -x -F "/-dash file" repo/odd/.gitignore &&
	test_grep ! "dash file\"\?$" actual &&
	test_grep ! "dir/" actual &&
	test_grep "dash file.cairn" actual &&
	git -C repo check-ignore -q -- "odd/-dash file" &&
	cp -R repo/odd odd.orig &&
	rm -rf "repo/odd/ünï côdé dir" "repo/odd/-dash file" &&
	(
		cd repo &&
		cairn checkout >/dev/null
	) &&
	diff -r odd.orig repo/odd
'

test_expect_success 'a leading dash without -- is an option (usage error)' '
	echo three >"repo/-x" &&
	(
		cd repo &&
		expect_code 129 cairn add -x 2>../err
	) &&
	test_grep "^error: unknown option" err &&
	test_grep "^usage: cairn add" err &&
	test_path_is_missing "repo/-x.cairn"
'

test_expect_success 'names with .gitignore specials are ignored exactly' '
	mkdir repo/gi &&
	for n in "#hash" "!bang" "star*" "trail " "br[a]ck" " lead"
	do
		echo x >"repo/gi/$n" &&
		(
			cd repo/gi &&
			cairn add -q -- "$n"
		) &&
		git -C repo check-ignore -q -- "gi/$n" || return 1
	done &&
	echo y >repo/gi/starX &&
	echo y >repo/gi/brack &&
	echo y >repo/gi/trail &&
	(
		cd repo &&
		git status --porcelain -uall gi >../actual
	) &&
	test_grep "gi/starX$" actual &&
	test_grep "gi/brack$" actual &&
	test_grep "gi/trail$" actual &&
	test_grep ! "gi/star\*$" actual &&
	test_grep ! "hash$" actual &&
	test_grep ! "bang$" actual
'

test_expect_success 'setup: a name with a newline' '
	mkdir repo/nl &&
	echo x >"repo/nl/new
line" &&
	echo keep >repo/nl/line
'

test_expect_success 'a name with a newline is refused or ignored exactly' '
	(
		cd repo/nl &&
		if cairn add -q -- "new
line" 2>../../err
		then
			git -C .. check-ignore -q -- "nl/new
line" &&
			test_must_fail git -C .. check-ignore -q nl/line
		else
			test_grep "^error: " ../../err
		fi
	)
'

test_expect_success '-q prints nothing, --no-gitignore leaves .gitignore alone' '
	mkdir -p repo/quiet/d &&
	echo q >repo/quiet/d/f &&
	(
		cd repo &&
		cairn add -q --no-gitignore quiet/d >../out
	) &&
	test_must_be_empty out &&
	test_path_is_file repo/quiet/d.cairn &&
	test_path_is_missing repo/quiet/.gitignore
'

test_expect_success 'add from a subdirectory takes paths relative to it' '
	mkdir -p repo/models/extra &&
	echo e >repo/models/extra/e &&
	(
		cd repo/data &&
		cairn add -q ../models/extra
	) &&
	test_path_is_file repo/models/extra.cairn &&
	test_grep -x /extra repo/models/.gitignore &&
	test_path_is_missing repo/data/extra.cairn
'

test_expect_success 'add appends to a .gitignore without a final newline' '
	mkdir -p repo/nonl/d &&
	echo d >repo/nonl/d/f &&
	printf "*.tmp" >repo/nonl/.gitignore &&
	(
		cd repo &&
		cairn add -q nonl/d
	) &&
	printf "*.tmp\n/d\n" >expect &&
	test_cmp expect repo/nonl/.gitignore
'

test_expect_success 'setup: commit, and paths for the error cases' '
	(
		cd repo &&
		git add -A &&
		git commit -q -m "more" &&
		mkdir -p new/sub &&
		echo n >new/sub/f &&
		echo top >new/top &&
		git add -A
	) &&
	mkdir -p outside-dir/sub &&
	echo out >outside-dir/sub/f &&
	echo out >outside-file
'

# add_fails ARGS...: `cairn add ARGS` fails with an error line and
# changes nothing (run in repo; writes ../err).
add_fails () {
	snapshot >../snap-before &&
	test_must_fail cairn add "$@" >../out 2>../err &&
	test_grep "^error: " ../err &&
	snapshot >../snap-after &&
	test_cmp ../snap-before ../snap-after
}

test_expect_success 'add refuses a path outside the repository' '
	(
		cd repo &&
		add_fails ../outside-file &&
		test_grep "outside" ../err &&
		add_fails "$TRASH_DIRECTORY/outside-dir" &&
		add_fails /
	) &&
	test_path_is_missing outside-file.cairn &&
	test_path_is_missing outside-dir.cairn
'

test_expect_success 'add refuses the top of the repository' '
	(
		cd repo &&
		add_fails . &&
		add_fails "$TRASH_DIRECTORY/repo" &&
		cd data &&
		snapshot >../../snap-before &&
		test_must_fail cairn add .. 2>../../err &&
		snapshot >../../snap-after
	) &&
	test_grep "^error: " err &&
	test_cmp snap-before snap-after &&
	test_path_is_missing repo.cairn &&
	test_path_is_missing repo/.cairn.cairn
'

test_expect_success 'add refuses paths in .cairn/ and .git/' '
	(
		cd repo &&
		echo x >.cairn/x &&
		add_fails .cairn/x &&
		add_fails .cairn &&
		add_fails .git/x &&
		add_fails .git/config &&
		add_fails .git
	) &&
	test_path_is_missing repo/.cairn/x.cairn &&
	test_path_is_missing repo/.git/config.cairn &&
	test_path_is_missing repo/.git.cairn
'

test_expect_success 'add refuses a path that does not exist' '
	(
		cd repo &&
		add_fails no-such-path &&
		test_grep "no-such-path" ../err
	) &&
	test_path_is_missing repo/no-such-path.cairn
'

test_expect_success 'add refuses a path inside a tracked directory, or above one' '
	(
		cd repo &&
		add_fails data/train/a.txt &&
		add_fails data/train/sub &&
		add_fails data
	) &&
	test_path_is_missing repo/data/train/a.txt.cairn &&
	test_path_is_missing repo/data.cairn
'

test_expect_success SYMLINKS 'add refuses a symlink as the tracked path' '
	ln -s data/train repo/link-to-train &&
	ln -s "$TRASH_DIRECTORY/outside-file" repo/link-to-outside &&
	(
		cd repo &&
		add_fails link-to-train &&
		test_grep "symlink" ../err &&
		add_fails link-to-outside
	) &&
	test_path_is_missing repo/link-to-train.cairn &&
	test_path_is_missing repo/link-to-outside.cairn
'

test_expect_success SYMLINKS 'add refuses a path below a symlinked directory' '
	ln -s "$TRASH_DIRECTORY/outside-dir" repo/ext &&
	(
		cd repo &&
		add_fails ext/sub
	) &&
	test_path_is_missing outside-dir/sub.cairn &&
	test_path_is_missing outside-dir/.gitignore
'

test_expect_success 'add refuses overlapping paths in one command' '
	(
		cd repo &&
		add_fails new new/sub &&
		test_grep "overlap" ../err &&
		add_fails new/sub new &&
		add_fails new new &&
		add_fails new new.cairn &&
		add_fails new ./new/
	) &&
	test_path_is_missing repo/new.cairn &&
	test_path_is_missing repo/new/sub.cairn
'

test_expect_success 'one bad path in a command: nothing at all is written' '
	(
		cd repo &&
		add_fails new/sub no-such-path &&
		add_fails no-such-path new/sub &&
		add_fails new/top ../outside-file
	) &&
	test_path_is_missing repo/new/sub.cairn &&
	test_path_is_missing repo/new/top.cairn &&
	test_path_is_missing repo/new/.gitignore
'

test_expect_success SYMLINKS 'a bad path found while scanning: nothing is written' '
	(
		cd repo &&
		add_fails new/sub link-to-train &&
		add_fails new/top link-to-outside
	) &&
	test_path_is_missing repo/new/sub.cairn &&
	test_path_is_missing repo/new/top.cairn
'

test_expect_success SYMLINKS 'a symlink and a name differing from it only in case: nothing is written' '
	mkdir -p repo/new/case/sub &&
	ln -s ../../outside-dir repo/new/case/sub/Data &&
	mkdir repo/new/case/sub/data &&
	echo x >repo/new/case/sub/data/x &&
	(
		cd repo &&
		add_fails new/case &&
		test_grep "^error: cannot track .new/case/sub.: \"Data\" and \"data\" differ only in case, and one is a symlink" ../err
	) &&
	rm -rf repo/new/case &&
	test_path_is_missing repo/new/case.cairn
'

test_expect_success 'a .gitignore.lock held by another: add waits, then a clear error and no pointer' '
	mkdir -p repo/locked &&
	echo data >repo/locked/w.bin &&
	>repo/locked/.gitignore.lock &&
	(cd repo && test_must_fail cairn add locked/w.bin 2>../err) &&
	test_grep "^error: cannot update .gitignore for .locked/w.bin.: .*gitignore.lock. exists: another cairn is changing" err &&
	test_path_is_missing repo/locked/w.bin.cairn &&
	test_path_is_missing repo/locked/.gitignore &&
	touch -d "-2 minutes" repo/locked/.gitignore.lock &&
	(cd repo && cairn add locked/w.bin 2>../err) &&
	test_path_is_file repo/locked/w.bin.cairn &&
	test_grep "^/w.bin$" repo/locked/.gitignore &&
	test_path_is_missing repo/locked/.gitignore.lock
'

test_expect_success 'a FIFO in a directory: a warning, skipped, never opened' '
	mkdir -p repo/fifo-dir &&
	echo data >repo/fifo-dir/f &&
	mkfifo repo/fifo-dir/pipe &&
	(cd repo && cairn add fifo-dir 2>../err && cairn ls fifo-dir >../ls) &&
	test_grep "^warning: skipping .*fifo-dir/pipe.: not a regular file, directory or symlink$" err &&
	test_grep "f" ls &&
	test_grep ! "pipe" ls &&
	rm repo/fifo-dir/pipe
'

test_expect_success 'add without a path, or with an unknown option, is a usage error' '
	(
		cd repo &&
		snapshot >../snap-before &&
		expect_code 129 cairn add 2>../err &&
		expect_code 129 cairn add --frob new/sub 2>../err2 &&
		snapshot >../snap-after
	) &&
	test_grep "^usage: cairn add" err &&
	test_grep "^error: .*--frob" err2 &&
	test_cmp snap-before snap-after
'

test_expect_success 'add -h prints the usage on stdout' '
	(
		cd repo &&
		cairn add -h >../out 2>../err
	) &&
	test_grep "^usage: cairn add" out &&
	test_must_be_empty err
'

test_done
