/*
 * Linked into every atf-c test program.  libatf-c allocates the list
 * of test cases and their properties and never frees them before the
 * program exits, so in a SANITIZE build LeakSanitizer would fail every
 * program as soon as Kyua lists its cases.  Only leaks whose stack
 * passes through libatf-c's own allocators are suppressed, by function
 * name: a test body is never called from these, so a leak in Castra's
 * code, even under a test body that libatf-c runs, is still reported.
 *
 * Both are weak, so that a program may still say more for itself.
 */

const char	*__lsan_default_suppressions(void);

__attribute__((__weak__)) const char *
__lsan_default_suppressions(void)
{
	return ("leak:atf_tp_get_tcs\n"
	    "leak:atf_map_init_charpp\n"
	    "leak:atf_map_insert\n"
	    "leak:atf_list_init\n"
	    "leak:atf_list_append\n");
}

const char	*__lsan_default_options(void);

/* The table of what was suppressed would only clutter every listing. */
__attribute__((__weak__)) const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}
