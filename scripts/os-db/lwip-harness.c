/*
 * A TCP listener on lwIP (Debian liblwip, its unix port's tap driver),
 * for scripts/os-db/capture-lwip.sh: lwIP answers, with its own stack,
 * every SYN to IP:PORT on the tap device named by PRECONFIGURED_TAPIF.
 *
 * Build: cc -o lwip-harness lwip-harness.c $(pkg-config --cflags --libs lwip)
 * Run:   PRECONFIGURED_TAPIF=tap0 ./lwip-harness 198.18.254.6 80 SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

static struct netif tap;

static err_t accepted(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)err;
	if (pcb != NULL)
		tcp_abort(pcb);
	return ERR_ABRT;
}

int main(int argc, char **argv)
{
	ip4_addr_t ip, mask, gw;
	struct tcp_pcb *pcb;

	if (argc != 4 || !ip4addr_aton(argv[1], &ip)) {
		fprintf(stderr, "usage: lwip-harness IP PORT SECONDS\n");
		return 2;
	}
	IP4_ADDR(&mask, 255, 255, 255, 252);
	IP4_ADDR(&gw, 0, 0, 0, 0);
	tcpip_init(NULL, NULL);
	LOCK_TCPIP_CORE();
	netif_add(&tap, &ip, &mask, &gw, NULL, tapif_init, tcpip_input);
	netif_set_default(&tap);
	netif_set_up(&tap);
	netif_set_link_up(&tap);
	pcb = tcp_new();
	if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, (u16_t)atoi(argv[2])) != ERR_OK) {
		UNLOCK_TCPIP_CORE();
		fprintf(stderr, "lwip-harness: cannot bind port %s\n", argv[2]);
		return 1;
	}
	pcb = tcp_listen(pcb);
	tcp_accept(pcb, accepted);
	UNLOCK_TCPIP_CORE();
	printf("lwip %s listening on %s:%s\n", LWIP_VERSION_STRING, argv[1], argv[2]);
	fflush(stdout);
	sleep((unsigned)atoi(argv[3]));
	return 0;
}
