/* Run as a Dockerfile RUN step: records the step's uid, its user namespace's uid map (inside uid, host
 * uid, count) and whether it can chroot out of the image, and leaves a file owned by uid 1000. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy(const char *from, const char *to) {
    char buf[4096];
    size_t n;
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    if (!in || !out) return 1;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    return fclose(out) != 0;
}

int main(void) {
    FILE *uid = fopen("/uid", "w"), *chroot_result = fopen("/chroot", "w"), *owned = fopen("/owned", "w");
    if (!uid || !chroot_result || !owned || copy("/proc/self/uid_map", "/uid_map")) return 1;
    fprintf(uid, "%d\n", (int)getuid());
    fclose(uid);
    fclose(owned);
    if (chown("/owned", 1000, 1000) != 0) return 2;
    mkdir("/cell", 0755);
    fprintf(chroot_result, "%s\n", chroot("/cell") == 0 ? "allowed" : strerror(errno));
    fclose(chroot_result);
    return 0;
}
