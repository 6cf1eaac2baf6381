/*
 * cairn help: the list of commands, or one command's manual page.
 */
#include "cmd/builtin.h"

#include <stdio.h>
#include <string.h>

int cmd_help(int argc, const char **argv, struct repo *r)
{
	size_t i;
	if (argc > 2)
		return usage_error("help", "give at most one command");
	if (argc == 2) {
		const char *text = help_text(argv[1]);
		if (!find_cmd(argv[1]) && !text)
			return error("no such command '%s'; see 'cairn help'", argv[1]);
		if (text)
			fputs(text, stdout);
		else
			usage_help(argv[1]);
		return 0;
	}
	printf("usage: cairn <command> [<args>]\n\n"
	       "cairn versions large data and models beside git: content-defined chunks,\n"
	       "deduplicated and compressed in packs, named by small pointer files.\n\n"
	       "commands:\n");
	for (i = 0; i < ncommands; i++)
		printf("   %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n'cairn help COMMAND' shows a command's manual; 'cairn COMMAND -h' its usage.\n");
	return 0;
}
