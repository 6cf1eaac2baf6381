#!/bin/sh

test_description='cairn export: reproducible archives of stored versions

A tracked directory is exported to every format, extracted by GNU tar,
bsdtar and unzip, and compared with the data; two exports of one version
are byte-identical, from the work tree pointer and from --rev alike, and
on a second clone; --rev exports an old version; data missing from or
corrupt in the store is an error that leaves no archive behind.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi
if ! test_have_prereq SYMLINKS
then
	skip_all='this file system has no symlinks'
	test_done
fi
for tool in tar bsdtar unzip zstd xz bzip2 gzip
do
	if ! command -v $tool >/dev/null 2>&1
	then
		skip_all="$tool not found (make test-deps installs it)"
		test_done
	fi
done

test_expect_success 'setup: v1 of a directory and a file, committed; then v2' '
	git init -q repo &&
	(
		cd repo &&
		cairn init >/dev/null &&
		mkdir -p data/train/sub/deep data/train/empty &&
		echo alpha >data/train/a.txt &&
		make_random data/train/big.bin 900000 5 &&
		: >data/train/zero &&
		printf "#!/bin/sh\necho run\n" >data/train/sub/run.sh &&
		chmod 755 data/train/sub/run.sh &&
		echo café >data/train/sub/café.txt &&
		echo deep >data/train/sub/deep/d &&
		ln -s ../a.txt data/train/sub/link &&
		mkdir -p models && echo weights >models/w.bin &&
		cairn add -q data/train models/w.bin &&
		git add -A && git commit -qm v1 &&
		git tag v1
	) &&
	cp -R repo/data/train train.v1 &&
	(
		cd repo &&
		echo alpha-v2 >data/train/a.txt &&
		rm data/train/zero &&
		cairn add -q data/train &&
		git add -A && git commit -qm v2
	) &&
	cp -R repo/data/train train.v2
'

# extract ARCHIVE DIR: with GNU tar, or bsdtar, or unzip, by name
extract () {
	rm -rf "$2" && mkdir "$2" &&
	case $1 in
	*.zip) (cd "$2" && LC_ALL=C.UTF-8 unzip -q ../"$1") ;;
	*.tar.zst) tar -C "$2" --zstd -xf "$1" ;;
	*) tar -C "$2" -xf "$1" ;;
	esac
}

for fmt in tar tar.gz tgz tar.bz2 tar.xz tar.zst zip
do
	test_expect_success "export as .$fmt: extracts to the data; twice gives the same bytes" '
		(
			cd repo &&
			cairn export data/train -o ../out.$fmt >out &&
			test_grep "exported data/train to ../out.$fmt: 6 files" out &&
			cairn export -q data/train.cairn -o ../again.$fmt &&
			cairn export -q --rev HEAD data/train -o ../rev.$fmt
		) &&
		cmp out.$fmt again.$fmt &&
		cmp out.$fmt rev.$fmt &&
		extract out.$fmt x &&
		same_tree train.v2 x
	'
done

test_expect_success 'bsdtar extracts the exports too' '
	for f in out.tar out.tar.xz out.tar.zst out.zip
	do
		rm -rf y && mkdir y && LC_ALL=C.UTF-8 bsdtar -C y -xf $f && same_tree train.v2 y || return 1
	done
'

test_expect_success 'the tar is sorted, owned by 0:0, mtime 0, no atime/ctime' '
	TZ=UTC tar --numeric-owner --quoting-style=literal -tvf out.tar >v &&
	awk "{ print \$2, \$4, \$5 }" v | sort -u >actual &&
	echo "0/0 1970-01-01 00:00" >expect &&
	test_cmp expect actual &&
	tar --quoting-style=literal -tf out.tar >names &&
	cat >expect <<-\EOF &&
	a.txt
	big.bin
	empty/
	sub/
	sub/café.txt
	sub/deep/
	sub/deep/d
	sub/link
	sub/run.sh
	EOF
	test_cmp expect names &&
	! grep -a "atime\|ctime" out.tar &&
	test_grep "^-rwxr-xr-x .* sub/run.sh" v &&
	test_grep "^-rw-r--r-- .* a.txt" v &&
	test_grep "^lrwxrwxrwx .* sub/link -> ../a.txt" v
'

test_expect_success 'the gzip header has no time stamp and no name' '
	od -A n -t x1 -N 10 out.tar.gz >hdr &&
	echo " 1f 8b 08 00 00 00 00 00 00 03" >expect &&
	test_cmp expect hdr
'

test_expect_success '--mtime sets the one mtime; the same --mtime, the same bytes' '
	(
		cd repo &&
		cairn export -q --mtime 1700000000 data/train -o ../m1.tar &&
		cairn export -q --mtime 1700000000 data/train -o ../m2.tar
	) &&
	cmp m1.tar m2.tar &&
	! cmp -s m1.tar out.tar &&
	TZ=UTC tar -tvf m1.tar >v &&
	test_grep "2023-11-14 22:13 a.txt" v
'

test_expect_success '--rev exports an old version; the same as from its pointer on a branch' '
	(
		cd repo &&
		cairn export -q --rev v1 data/train -o ../v1.tar &&
		git checkout -q v1 &&
		cairn checkout -q &&
		cairn export -q data/train -o ../v1-wt.tar &&
		git checkout -q - &&
		cairn checkout -q
	) &&
	cmp v1.tar v1-wt.tar &&
	extract v1.tar x1 &&
	same_tree train.v1 x1
'

test_expect_success 'the same version gives the same bytes in another clone' '
	git clone -q repo clone &&
	(
		cd clone &&
		cairn init >/dev/null 2>&1 || true &&
		rm -rf .cairn/store &&
		mkdir -p .cairn &&
		cp -R ../repo/.cairn/store .cairn/store &&
		cairn checkout -q &&
		cairn export -q data/train -o ../clone.tar.zst
	) &&
	cmp out.tar.zst clone.tar.zst
'

test_expect_success 'export to standard output equals the file' '
	(
		cd repo &&
		cairn export data/train -o - >../stdout.tar 2>err &&
		test_grep "exported data/train to standard output" err &&
		cairn export -q --format zip data/train -o - >../stdout.zip
	) &&
	cmp out.tar stdout.tar &&
	cmp out.zip stdout.zip
'

test_expect_success 'a file pointer exports as one entry named after it' '
	(
		cd repo &&
		cairn export -q models/w.bin -o ../w.tar
	) &&
	tar -tvf w.tar >v &&
	test_line_count = 1 v &&
	test_grep "^-rw-r--r-- .* w.bin$" v &&
	extract w.tar wx &&
	cmp repo/models/w.bin wx/w.bin
'

test_expect_success 'export needs no work tree copy: the store is enough' '
	(
		cd repo &&
		rm -rf data/train &&
		cairn export -q data/train -o ../from-store.tar &&
		cairn checkout -q data/train
	) &&
	cmp out.tar from-store.tar
'

test_expect_success 'export, import: the same pointer id' '
	(
		cd repo &&
		cairn import -q ../out.tar.xz data/back &&
		sed -n "s/^id: //p" data/train.cairn >expect &&
		sed -n "s/^id: //p" data/back.cairn >actual &&
		test_cmp expect actual
	)
'

test_expect_success 'usage errors exit 129; a missing pointer is an error' '
	(
		cd repo &&
		expect_code 129 cairn export data/train 2>err &&
		test_grep "give the archive to write with -o" err &&
		expect_code 129 cairn export -o x.tar 2>err &&
		expect_code 129 cairn export data/train -o x.rar 2>err &&
		test_grep "cannot tell the format" err &&
		expect_code 129 cairn export --format rar data/train -o x 2>err &&
		expect_code 129 cairn export --mtime soon data/train -o x.tar 2>err &&
		expect_code 129 cairn export --bogus data/train -o x.tar 2>err &&
		expect_code 129 cairn export data/train models/w.bin -o x.tar 2>err &&
		expect_code 1 cairn export data/nothing -o x.tar 2>err &&
		test_grep "error: " err &&
		expect_code 1 cairn export --rev no-such-rev data/train -o x.tar 2>err &&
		test_path_is_missing x.tar &&
		cairn export -h >usage &&
		test_grep "^usage: cairn export" usage &&
		cairn help export >help &&
		test_grep "reproducible" help
	)
'

test_expect_success 'corrupt data in the store: an error, and no archive left' '
	cp -R repo corrupt &&
	(
		cd corrupt &&
		chmod -R u+w .cairn/store/packs &&
		for p in .cairn/store/packs/*.pack
		do
			size=$(size_of $p) &&
			flip_byte $p $((size / 2)) || return 1
		done &&
		test_must_fail cairn export data/train -o ../bad.tar 2>err &&
		test_grep "error: " err &&
		ls .. >ls &&
		! grep "bad.tar" ls
	)
'

test_done
