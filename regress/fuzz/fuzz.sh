#! /usr/bin/env atf-sh
#
# Every fuzz target of fuzz/*.mk, run for a few seconds over its seeds:
# a crash, a leak, undefined behaviour or a hang fails the case.  The
# time per target is the configuration variable fuzz_seconds (5).

atf_test_case targets
targets_head()
{
	atf_set "descr" "every fuzz target survives a short run"
	atf_set "timeout" "600"
}
targets_body()
{
	builddir=$(atf_config_get builddir)
	srcdir=$(atf_config_get srcdir)
	seconds=$(atf_config_get fuzz_seconds 5)
	out=$(pwd)/fuzz.out

	command -v clang >/dev/null || atf_skip "clang is not installed"
	cd "$srcdir" || atf_fail "no source directory $srcdir"
	ls fuzz/*.mk >/dev/null 2>&1 || atf_fail "no fuzz targets declared"
	if ! sh fuzz/run "$builddir" "$seconds" >"$out" 2>&1; then
		cat "$out"
		atf_fail "a fuzz target failed; see above"
	fi
	cat "$out"
}

atf_init_test_cases()
{
	atf_add_test_case targets
}
