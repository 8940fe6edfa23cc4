"""A TLS-terminating proxy for the tests: what stands in front of a central server in production.

Usage: tls_proxy.py CERT KEY BACKEND_HOST:PORT
Listens on 127.0.0.1 on a free port, prints that port on its first line, and for each TLS
connection opens a plain one to the backend and copies bytes both ways until either side closes.
"""
import socket
import ssl
import sys
import threading


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, backend):
    host, port = backend.rsplit(":", 1)
    try:
        upstream = socket.create_connection((host, int(port)))
    except OSError:
        client.close()
        return
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)


def main():
    cert, key, backend = sys.argv[1:4]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        connection, _ = listener.accept()
        try:
            wrapped = context.wrap_socket(connection, server_side=True)
        except (ssl.SSLError, OSError):
            # A client that does not trust the certificate hangs up mid-handshake.
            connection.close()
            continue
        threading.Thread(target=serve, args=(wrapped, backend), daemon=True).start()


if __name__ == "__main__":
    main()
