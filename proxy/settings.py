"""The [proxy] section: the front door (Swift API v1 and S3 on one port)."""
from strato.config import Field, Section


def _check_users(users):
    for entry in users:
        parts = entry.split(":")
        if len(parts) < 3 or not all(parts[:3]):
            return f"user entry {entry!r} is not 'account:user:key[:group,group...]'"
    return None


SECTION = Section("proxy", "The proxy: Swift API v1 and S3 on one port.", {
    "bind_ip": Field("str", "127.0.0.1", "Address the proxy listens on."),
    "port": Field("int", 8080, "Port of the proxy.", min=1, max=65535, port=True),
    "workers": Field("int", 1, "Proxy worker processes sharing the port (SO_REUSEPORT).",
                     min=1, max=64),
    "users": Field("list", [], "Swift /auth/v1.0 users as 'account:user:key[:group,...]' "
                   "('.admin' makes the user own the account; '.reseller_admin' all accounts). "
                   "The all-in-one adds a generated test:tester.", check=_check_users),
    "token_ttl": Field("int", 86400, "Seconds an /auth/v1.0 token lives.", min=1),
    "node_timeout": Field("float", 10.0, "Seconds to wait on a storage node response.", min=0.1),
    "conn_timeout": Field("float", 0.5, "Seconds to wait for a storage node connection.", min=0.01),
    "error_limit_count": Field("int", 10, "Errors after which a node is error-limited.", min=1),
    "error_limit_seconds": Field("float", 60.0, "How long an error-limited node is skipped.", min=0),
    "put_footer": Field("bool", True, "Hash each object PUT's body once here and send its MD5 "
                        "and xxh3 after it to storage nodes that advertise the footer (each then "
                        "hashes xxh3 only; docs/storage-protocol.md). Turn it off before rolling a "
                        "storage node back to a release without it."),
    "max_file_size": Field("int", 5 * 1024 ** 3, "Largest single object in bytes.", min=1),
    "expirer_interval": Field("float", 5.0, "Seconds between passes of the object expirer.",
                              min=0.1),
    "account_autocreate": Field("bool", True, "Create an account on its owner's first write "
                                "(and read a missing account as empty), as the Swift SAIO does."),
    "info_cache_ttl": Field("float", 5.0, "Seconds a proxy worker caches account/container "
                            "info (ACLs, quotas, existence); its own writes invalidate it.", min=0),
    "auth": Field("list", ["tempauth", "keystone"], "Token kinds the Swift API accepts: "
                  "'tempauth' (the users above, /auth/v1.0 tokens) and 'keystone' (tokens of "
                  "Strato identity, checked locally from <data_dir>/identity; proxy/keystone.py).",
                  check=lambda v: None if set(v) <= {"tempauth", "keystone"} and v
                  else f"auth {v!r}: list 'tempauth' and/or 'keystone'"),
    "keystone_admin_project": Field("str", "admin", "Project whose 'admin' role makes a Keystone "
                                    "user reseller admin (every account); the 'ResellerAdmin' "
                                    "role on any project does too."),
    "storage_domain": Field("list", ["example.com"], "Swift's domain_remap: a request whose Host "
                            "is <account>.<domain> or <container>.<account>.<domain> (AUTH- may "
                            "stand for AUTH_) names that account/container; [] turns it off "
                            "(proxy/domain_remap.py).",
                            check=lambda v: None if all(isinstance(d, str) and d.strip(".")
                                                        for d in v) else "empty storage_domain"),
    "auth_secret": Field("str", "", "Extra secret mixed into the /auth/v1.0 token signing key "
                         "(derived from cluster.hash_path_prefix/suffix); changing it revokes "
                         "every token."),
})
