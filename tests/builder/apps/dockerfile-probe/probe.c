/* Run as a Dockerfile RUN step: records the step's uid, its user namespace's uid map (inside uid, host
 * uid, count) and whether it can chroot out of the image, and leaves a file owned by uid 1000. It also
 * tries a TCP connection to each "<ipv4> <port>" line of /targets and records "<ipv4> <port> <outcome>". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
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

static void probe_targets(void) {
    char host[64];
    int port;
    FILE *targets = fopen("/targets", "r"), *net = fopen("/net", "w");
    if (!targets || !net) return;
    while (fscanf(targets, "%63s %d", host, &port) == 2) {
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct timeval timeout = {.tv_sec = 2};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        inet_pton(AF_INET, host, &addr.sin_addr);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
        fprintf(net, "%s %d %s\n", host, port, ok ? "connected" : strerror(errno));
        close(fd);
    }
    fclose(targets);
    fclose(net);
}

int main(void) {
    probe_targets();
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
