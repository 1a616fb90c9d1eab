/*
 * js-consumer — what JetStream itself says about a stream, a consumer of
 * it, or one stored message, for the bridge's tests (Debian has no `nats`
 * CLI).
 *
 *   js-consumer URL STREAM             messages=N replicas=N
 *   js-consumer URL STREAM DURABLE     the same, then ack_pending=N redelivered=N
 *                                      pending=N delivered=N ack_floor=N
 *   js-consumer URL STREAM @SEQ        subject=S, header KEY=VALUE..., data=D
 *   js-consumer URL STREAM DURABLE peek
 *                                      fetches one message as a second client of the
 *                                      durable, prints seq=N delivered=N and gives it
 *                                      back (nak): a redelivery shows as delivered > 1
 *   js-consumer URL STREAM --delete    deletes the stream (its consumers go with it)
 *   js-consumer URL SUBJECT --publish DATA [KEY=VALUE...]
 *                                      publishes DATA to SUBJECT with those headers,
 *                                      JetStream's acknowledgement awaited: seq=N
 *
 * One "key=value" a line. Exit 0, or 1 with the reason on stderr.
 */
#include <inttypes.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static natsStatus publish(jsCtx *js, const char *subject, const char *data, char **headers, int n) {
        jsPubAck *pa = NULL;
        natsMsg *m = NULL;
        natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)strlen(data));

        for (int i = 0; s == NATS_OK && i < n; i++) {
                char *eq = strchr(headers[i], '=');
                if (!eq)
                        return NATS_INVALID_ARG;
                *eq = '\0';
                s = natsMsgHeader_Set(m, headers[i], eq + 1);
        }
        if (s == NATS_OK)
                s = js_PublishMsg(&pa, js, m, NULL, NULL);
        if (s == NATS_OK)
                printf("seq=%" PRIu64 "\n", pa->Sequence);
        jsPubAck_Destroy(pa);
        natsMsg_Destroy(m);
        return s;
}

static natsStatus print_message(jsCtx *js, const char *stream, uint64_t seq) {
        natsMsg *m = NULL;
        const char **keys = NULL;
        int n = 0;
        natsStatus s = js_GetMsg(&m, js, stream, seq, NULL, NULL);

        if (s != NATS_OK)
                return s;
        printf("subject=%s\n", natsMsg_GetSubject(m));
        if (natsMsgHeader_Keys(m, &keys, &n) == NATS_OK)
                for (int i = 0; i < n; i++) {
                        const char *v = NULL;
                        natsMsgHeader_Get(m, keys[i], &v);
                        printf("header %s=%s\n", keys[i], v ? v : "");
                }
        printf("data=%.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
        free((void *)keys);
        natsMsg_Destroy(m);
        return NATS_OK;
}

static natsStatus print_consumer(jsCtx *js, const char *stream, const char *durable) {
        jsConsumerInfo *ci = NULL;
        natsStatus s = js_GetConsumerInfo(&ci, js, stream, durable, NULL, NULL);

        if (s == NATS_OK)
                printf("ack_pending=%" PRId64 "\nredelivered=%" PRId64 "\npending=%" PRIu64 "\ndelivered=%" PRIu64
                       "\nack_floor=%" PRIu64 "\n",
                       ci->NumAckPending, ci->NumRedelivered, ci->NumPending, ci->Delivered.Stream,
                       ci->AckFloor.Stream);
        jsConsumerInfo_Destroy(ci);
        return s;
}

static natsStatus peek(natsConnection *nc, jsCtx *js, const char *stream, const char *durable) {
        natsSubscription *sub = NULL;
        natsMsgList list = { 0 };
        jsMsgMetaData *meta = NULL;
        jsSubOptions so;
        natsStatus s;

        jsSubOptions_Init(&so);
        so.Stream = stream;
        so.Consumer = durable;
        s = js_PullSubscribe(&sub, js, NULL, durable, NULL, &so, NULL);
        if (s == NATS_OK)
                s = natsSubscription_Fetch(&list, sub, 1, 2000, NULL);
        if (s == NATS_OK && list.Count == 1 && natsMsg_GetMetaData(&meta, list.Msgs[0]) == NATS_OK) {
                printf("seq=%" PRIu64 "\ndelivered=%" PRIu64 "\n", meta->Sequence.Stream, meta->NumDelivered);
                natsMsg_Nak(list.Msgs[0], NULL);
                natsConnection_Flush(nc);
        }
        if (s == NATS_TIMEOUT) {
                printf("seq=0\n");
                s = NATS_OK;
        }
        jsMsgMetaData_Destroy(meta);
        natsMsgList_Destroy(&list);
        natsSubscription_Destroy(sub);
        return s;
}

int main(int argc, char **argv) {
        natsConnection *nc = NULL;
        jsStreamInfo *si = NULL;
        jsCtx *js = NULL;
        natsStatus s;

        if (argc >= 5 && strcmp(argv[3], "--publish") == 0) {
                s = natsConnection_ConnectTo(&nc, argv[1]);
                if (s == NATS_OK)
                        s = natsConnection_JetStream(&js, nc, NULL);
                if (s == NATS_OK)
                        s = publish(js, argv[2], argv[4], argv + 5, argc - 5);
                goto out;
        }
        if (argc < 3 || argc > 5) {
                fprintf(stderr, "usage: js-consumer URL STREAM [DURABLE [peek]|@SEQ|--delete] | URL SUBJECT --publish "
                                "DATA [KEY=VALUE...]\n");
                return 2;
        }
        s = natsConnection_ConnectTo(&nc, argv[1]);
        if (s == NATS_OK)
                s = natsConnection_JetStream(&js, nc, NULL);
        if (s == NATS_OK && argc == 4 && strcmp(argv[3], "--delete") == 0)
                s = js_DeleteStream(js, argv[2], NULL, NULL);
        else if (s == NATS_OK && argc == 4 && argv[3][0] == '@')
                s = print_message(js, argv[2], strtoull(argv[3] + 1, NULL, 10));
        else if (s == NATS_OK && argc == 5)
                s = peek(nc, js, argv[2], argv[3]);
        else {
                if (s == NATS_OK)
                        s = js_GetStreamInfo(&si, js, argv[2], NULL, NULL);
                if (s == NATS_OK)
                        printf("messages=%" PRIu64 "\nreplicas=%" PRId64 "\n", si->State.Msgs, si->Config->Replicas);
                if (s == NATS_OK && argc == 4)
                        s = print_consumer(js, argv[2], argv[3]);
        }
out:
        if (s != NATS_OK)
                fprintf(stderr, "js-consumer: %s: %s\n", natsStatus_GetText(s), nats_GetLastError(NULL));
        jsStreamInfo_Destroy(si);
        jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        nats_Close();
        return s == NATS_OK ? 0 : 1;
}
