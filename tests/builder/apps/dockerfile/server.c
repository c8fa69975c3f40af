/* A tiny static HTTP server: answers every request on $PORT (default 5000) with one line. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    const char *port = getenv("PORT");
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port ? atoi(port) : 5000)};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, 16)) {
        perror("listen");
        return 1;
    }
    const char *reply = "HTTP/1.1 200 OK\r\nContent-Length: 29\r\nConnection: close\r\n\r\nPowered by a Dockerfile app!\n";
    for (;;) {
        char buf[4096];
        int c = accept(fd, NULL, NULL);
        if (c < 0) continue;
        if (read(c, buf, sizeof buf) > 0) write(c, reply, strlen(reply));
        close(c);
    }
}
