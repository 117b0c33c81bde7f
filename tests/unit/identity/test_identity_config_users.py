"""The configured Swift users and S3 keys become identity users, roles and EC2 credentials."""
from identity import bootstrap, swift_auth
from identity.config_users import role_for
from identity.validate import TokenValidator
from strato import config as config_mod

USERS = ["test:tester:testing:.admin", "test:tester3:testing3", "test2:tester2:testing2:.admin",
         "test:tester2:testing2:.admin", "admin:admin:admin:.admin,.reseller_admin",
         "alt:alt:alt-key:.admin"]
S3 = ["test:tester testing test tester", "AKIAALT secret-alt alt alt",
      "AKIANOBODY x nowhere nobody"]


def test_roles_follow_swift_groups():
    assert role_for({".reseller_admin", ".admin"}) == "admin"
    assert role_for({".admin"}) == "member"
    assert role_for(set()) == "reader" and role_for({"service"}) == "reader"


def test_configured_users_and_keys_work_against_identity(tmp_path):
    config = config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp_path)},
        "identity": {"admin_password": "real-admin"},
        "proxy": {"users": USERS}, "s3": {"credentials": S3}}, environ={})
    state = bootstrap.bootstrap(config)
    data_dir = str(tmp_path)
    assert state["tester_password"] == "testing" and state["alt_password"] == "alt-key"
    check = swift_auth.check_v1_credentials
    assert check("test:tester", "testing", data_dir=data_dir).roles == {"member"}
    assert check("test:tester3", "testing3", data_dir=data_dir).roles == {"reader"}
    assert check("test2:tester2", "testing2", data_dir=data_dir).project_name == "test2"
    assert check("test:tester2", "testing2", data_dir=data_dir).project_name == "test"
    # identity's admin keeps [identity] admin_password, not the Swift suite's "admin".
    assert check("admin:admin", "real-admin", data_dir=data_dir).is_admin
    validator = TokenValidator(data_dir)
    secret, _, project_id = validator.ec2_secret_for("test:tester")
    assert secret == "testing" and project_id == state["accounts"]["tester"]["project_id"]
    assert validator.ec2_secret_for("AKIAALT")[0] == "secret-alt"
    validator.close()
    again = bootstrap.bootstrap(config)  # idempotent, and no key is re-hashed
    assert again["applied_keys"] == state["applied_keys"]
