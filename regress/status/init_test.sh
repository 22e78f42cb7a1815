#! /usr/bin/env atf-sh
# castra init: the file it writes, where it says the state will live,
# and that it never overwrites without --force.

. "$(atf_get_srcdir)/common.sh"

# A default image description of our own, found through
# CASTRA_IMAGE_DIR; its URL is never fetched here.
image_dir()
{
	mkdir -p img
	cat >img/default-image.conf <<EOF
image "castra-default" {
	url "http://127.0.0.1:9/rootfs.qcow2"
	sha256 "$(printf '%064d' 0)"
}
EOF
	CASTRA_IMAGE_DIR="$PWD/img"
	export CASTRA_IMAGE_DIR
}

hash_of()
{
	printf '%s' "$1" | sha256sum | cut -c1-16
}

atf_test_case writes cleanup
writes_head()
{
	atf_set descr "init writes a project that parses, and names its state root"
}
writes_body()
{
	setup_env
	image_dir
	root="$CASTRA_HOME/projects/proj-$(hash_of "$PWD/proj")"
	atf_check -s exit:0 -e empty \
	    -o match:"^Created $PWD/proj/castra.conf.\$" \
	    -o match:"^Its state will live in $root.\$" \
	    "$castra" init -o proj/castra.conf
	atf_check -o match:"^include \"$PWD/img/default-image.conf\"\$" \
	    -o match:'^project "proj"$' -o match:'^vm "proj" \{$' \
	    -o match:'^	image "castra-default"$' -o match:'^	cpus 1$' \
	    -o match:'^	memory 256M$' cat proj/castra.conf
	atf_check -s exit:0 -o save:status.json -e empty \
	    sh -c "cd proj && '$castra' status --json"
	atf_check -o inline:"$root proj 1 256\n" python3 -c "$jq" \
	    'j["state_root"], j["vms"][0]["name"], j["vms"][0]["cpus"], j["vms"][0]["memory_mib"]' \
	    <status.json
	# Without -o: ./castra.conf, named after the directory.
	mkdir "my box"
	atf_check -s exit:0 -o match:"Created $PWD/my box/castra.conf" \
	    sh -c "cd 'my box' && '$castra' init"
	atf_check -o match:'^vm "my-box" \{$' cat "my box/castra.conf"
}
writes_cleanup()
{
	:
}

atf_test_case refuses cleanup
refuses_head()
{
	atf_set descr "init refuses to overwrite without --force (exit 73)"
}
refuses_body()
{
	setup_env
	image_dir
	atf_check -s exit:0 -o ignore "$castra" init -o proj/castra.conf
	echo '# my edits' >>proj/castra.conf
	cp proj/castra.conf saved.conf
	atf_check -s exit:73 -o empty -e match:"already exists.*--force" \
	    "$castra" init -o proj/castra.conf
	atf_check cmp proj/castra.conf saved.conf
	atf_check -s exit:0 -o match:"Created" "$castra" init --force \
	    -o proj/castra.conf -n other
	atf_check -s exit:1 grep -q "my edits" proj/castra.conf
	atf_check -o match:'^vm "other" \{$' cat proj/castra.conf
	# No temporary file is left behind.
	atf_check -o inline:"castra.conf\n" ls proj
	atf_check -s exit:64 -e match:"-n a/b: a name starts with" \
	    "$castra" init -o proj/x.conf -n a/b
	atf_check -s exit:64 -e match:"is not \"host\"" \
	    "$castra" init -o proj/x.conf -n host
	atf_check -s exit:73 -e match:"create the directory first" \
	    "$castra" init -o nodir/castra.conf
	atf_check -s exit:64 -e match:"usage: castra init" \
	    "$castra" init extra
}
refuses_cleanup()
{
	:
}

atf_test_case symlinked cleanup
symlinked_head()
{
	atf_set descr "the state root init prints is canonical through a symlink"
}
symlinked_body()
{
	setup_env
	image_dir
	mkdir -p real/dir
	ln -s real/dir link
	root="$CASTRA_HOME/projects/web-$(hash_of "$PWD/real/dir")"
	atf_check -s exit:0 -o match:"Created $PWD/real/dir/castra.conf" \
	    -o match:"state will live in $root.\$" \
	    "$castra" init -o link/castra.conf -n web
	atf_check -s exit:0 -o save:a.json "$castra" -c real/dir/castra.conf \
	    status --json
	atf_check -o inline:"$root\n" python3 -c "$jq" 'j["state_root"]' \
	    <a.json
	atf_check -s exit:0 -o save:b.json sh -c "cd link && '$castra' status --json"
	atf_check -o inline:"$root\n" python3 -c "$jq" 'j["state_root"]' \
	    <b.json
}
symlinked_cleanup()
{
	:
}

atf_init_test_cases()
{
	atf_add_test_case writes
	atf_add_test_case refuses
	atf_add_test_case symlinked
}
