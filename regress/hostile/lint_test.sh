#! /usr/bin/env atf-sh
#
# Static analysis stays clean: cppcheck over the whole tree, exactly as
# `make cppcheck` runs it, fails the case on any finding that
# regress/hostile/cppcheck.supp does not explain.

atf_test_case cppcheck
cppcheck_head()
{
	atf_set "descr" "cppcheck finds nothing new in the tree"
	atf_set "timeout" "600"
}
cppcheck_body()
{
	srcdir=$(atf_config_get srcdir)
	builddir=$(atf_config_get builddir)

	command -v cppcheck >/dev/null || atf_skip "cppcheck is not installed"
	if ! make -s -C "$srcdir" B="$builddir" cppcheck >cppcheck.out 2>&1
	then
		cat cppcheck.out
		atf_fail "cppcheck reports findings; fix them, or explain" \
		    "each in regress/hostile/cppcheck.supp"
	fi
}

# The check itself works: a file with a plain bug is reported.
atf_test_case cppcheck_finds
cppcheck_finds_head()
{
	atf_set "descr" "the cppcheck options of make cppcheck still find" \
	    "an out-of-bounds write"
}
cppcheck_finds_body()
{
	srcdir=$(atf_config_get srcdir)

	command -v cppcheck >/dev/null || atf_skip "cppcheck is not installed"
	mkdir bad
	cat >bad/bad.c <<'EOF2'
int	bad(void);

int
bad(void)
{
	char	 buf[8];

	buf[8] = 0;
	return (buf[0]);
}
EOF2
	atf_check -s not-exit:0 -o ignore -e match:"arrayIndexOutOfBounds" \
	    make -s -C "$srcdir" CPPCHECK_DIRS="$(pwd)/bad" cppcheck
}

atf_init_test_cases()
{
	atf_add_test_case cppcheck
	atf_add_test_case cppcheck_finds
}
