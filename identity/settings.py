"""The [identity] section: the Keystone v3 subset."""
from strato.config import Field, Section

SECTION = Section("identity", "Identity (Keystone v3 subset).", {
    "bind_ip": Field("str", "127.0.0.1", "Address identity listens on."),
    "port": Field("int", 5000, "Port of identity.", min=1, max=65535, port=True),
    "admin_password": Field("secret", "", "Password of the bootstrap admin (generated on first start)."),
    "token_ttl": Field("int", 3600, "Seconds a token lives.", min=1),
    "key_rotation_hours": Field("float", 24.0, "Hours between Fernet key rotations.", min=0.01),
    "public_host": Field("str", "", "Host name or address put in catalog URLs and /v3 discovery "
                         "(default: each service's bind_ip, with 0.0.0.0 read as 127.0.0.1)."),
    "region": Field("str", "RegionOne", "Region id of every catalog endpoint."),
    "revocation_check_seconds": Field("float", 0.1, "How often a service re-checks the shared "
                                      "revocation list (a revoked token keeps working in other "
                                      "services at most this long).", min=0),
    "ec2_cache_seconds": Field("float", 5.0, "How long a service caches an EC2 secret it looked "
                               "up (a deleted credential keeps working at most this long).", min=0),
})
