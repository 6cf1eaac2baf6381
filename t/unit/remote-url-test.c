/*
 * Remote URL parsing: every accepted form and the refusals.
 */
#include "remote/remote.h"
#include "t/unit/tap.h"

#include <string.h>

static void good(const char *s, const char *scheme, const char *user, const char *host, int port,
		 const char *path)
{
	struct remote_url u;
	struct strbuf err = STRBUF_INIT;
	int r = remote_url_parse(&u, s, "/repo", &err);
	ok(r == 0 && !strcmp(u.scheme, scheme) &&
	   ((!user && !u.user) || (user && u.user && !strcmp(user, u.user))) &&
	   ((!host && !u.host) || (host && u.host && !strcmp(host, u.host))) && u.port == port &&
	   !strcmp(u.path, path),
	   "'%s' -> %s user=%s host=%s port=%d path=%s (%s)", s, scheme, user ? user : "-",
	   host ? host : "-", port, path, err.buf);
	if (!r)
		remote_url_release(&u);
	strbuf_release(&err);
}

static void bad(const char *s, const char *must_say)
{
	struct remote_url u;
	struct strbuf err = STRBUF_INIT;
	struct strbuf shown = STRBUF_INIT;
	int r = remote_url_parse(&u, s, "/repo", &err);
	strbuf_add_json_str(&shown, s, strlen(s)); /* no raw newline in TAP */
	ok(r == CAIRN_EINVAL && strstr(err.buf, must_say) && !strstr(err.buf, "hunter2"),
	   "%s refused: %s", shown.buf, err.buf);
	strbuf_release(&shown);
	if (!r)
		remote_url_release(&u);
	strbuf_release(&err);
}

int main(void)
{
	struct remote_url u;
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	good("/srv/cairn/proj", "file", NULL, NULL, 0, "/srv/cairn/proj");
	good("/srv/cairn/proj/", "file", NULL, NULL, 0, "/srv/cairn/proj");
	good("file:///srv/x", "file", NULL, NULL, 0, "/srv/x");
	good("file://localhost/srv/x", "file", NULL, NULL, 0, "/srv/x");
	good("../shared", "file", NULL, NULL, 0, "/repo/../shared");
	good("./a:b", "file", NULL, NULL, 0, "/repo/./a:b");
	good("ssh://alice@data.example:2222/srv/cairn/proj", "ssh", "alice", "data.example", 2222,
	     "/srv/cairn/proj");
	good("ssh://data.example/srv/x", "ssh", NULL, "data.example", 0, "/srv/x");
	good("ssh://h/~/store", "ssh", NULL, "h", 0, "store");
	good("alice@host:path/x", "ssh", "alice", "host", 0, "path/x");
	good("host:/abs/x", "ssh", NULL, "host", 0, "/abs/x");
	good("127.0.0.1:/tmp/r", "ssh", NULL, "127.0.0.1", 0, "/tmp/r");

	good("s3://ml-data/projects/churn", "s3", NULL, "ml-data", 0, "projects/churn");
	good("s3://ml-data/projects/churn/", "s3", NULL, "ml-data", 0, "projects/churn");
	good("s3://ml-data", "s3", NULL, "ml-data", 0, "");
	good("s3://ml-data/", "s3", NULL, "ml-data", 0, "");
	good("s3://a.b-c/x y/z", "s3", NULL, "a.b-c", 0, "x y/z");
	bad("s3://AKIA:hunter2@bucket/x", "credentials");
	bad("s3://Upper/x", "a-z");
	bad("s3://ab/x", "3 to 63");
	bad("s3://bucket//x", "bad prefix");
	bad("s3://bucket/a/../b", "bad prefix");
	bad("s3://bucket/a?x=1", "bad prefix");
	bad("", "empty");
	bad("ssh://alice:hunter2@host/x", "password");
	bad("alice:hunter2@host:x", "");
	bad("ssh://host", "no path");
	bad("ssh://host/", "no path");
	bad("ssh://host:99999/x", "bad port");
	bad("ssh://host:0/x", "bad port");
	bad("ssh://host:2a/x", "bad port");
	bad("ssh://@host/x", "empty user");
	bad("ssh://:22/x", "no host");
	bad("file://relative/x", "absolute");
	bad("ftp://host/x", "unsupported");
	bad("host:", "no path");
	bad("/a\nb", "line break");

	remote_url_parse(&u, "ssh://alice@h:2222/srv/x", NULL, &err);
	remote_url_display(&u, &sb);
	ok(!strcmp(sb.buf, "ssh://alice@h:2222/srv/x"), "display of an ssh URL: %s", sb.buf);
	remote_url_release(&u);
	strbuf_reset(&sb);
	remote_url_parse(&u, "h:rel/x", NULL, &err);
	remote_url_display(&u, &sb);
	ok(!strcmp(sb.buf, "ssh://h/~/rel/x"), "display of a login-relative path: %s", sb.buf);
	remote_url_release(&u);
	strbuf_reset(&sb);
	remote_url_parse(&u, "s3://b-1/p/q/", NULL, &err);
	remote_url_display(&u, &sb);
	ok(!strcmp(sb.buf, "s3://b-1/p/q"), "display of an s3 URL: %s", sb.buf);
	ok(remote_default_jobs("s3://b-1/p") == 8 && remote_default_jobs("/srv/x") == 4,
	   "s3 remotes default to 8 jobs, others to 4");
	remote_url_release(&u);
	strbuf_release(&sb);
	strbuf_release(&err);
	return tap_done();
}
