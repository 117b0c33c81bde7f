"""The S3 error model: one exception that carries the wire answer, rendered at one boundary.

Every failure in the S3 layer raises S3Error(code, ...); the handler turns it into the XML error
document with the code's HTTP status. Codes and statuses follow the S3 API reference's error table.
"""
from __future__ import annotations

from xml.sax.saxutils import escape as _escape


def escape(text: str) -> str:
    """XML text, a key's carriage return as a reference (as xmlio.render writes it)."""
    return _escape(text, {"\r": "&#13;"})


# code -> (HTTP status, default message)
ERRORS: dict[str, tuple[int, str]] = {
    "AccessControlListNotSupported": (400, "The bucket does not allow ACLs"),
    "AccessDenied": (403, "Access Denied"),
    "AccountProblem": (403, "There is a problem with your account."),
    "BadDigest": (400, "The Content-MD5 you specified did not match what we received."),
    "BucketAlreadyExists": (409, "The requested bucket name is not available."),
    "BucketAlreadyOwnedByYou": (409, "Your previous request to create the named bucket succeeded "
                                     "and you already own it."),
    "BucketNotEmpty": (409, "The bucket you tried to delete is not empty"),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed object size."),
    "EntityTooSmall": (400, "Your proposed upload is smaller than the minimum allowed object size."),
    "IllegalVersioningConfigurationException": (400, "The versioning configuration specified in the "
                                                     "request is invalid."),
    "IncompleteBody": (400, "You did not provide the number of bytes specified by the "
                            "Content-Length HTTP header"),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidAccessKeyId": (403, "The AWS Access Key Id you provided does not exist in our records."),
    "InvalidArgument": (400, "Invalid Argument"),
    "InvalidBucketName": (400, "The specified bucket is not valid."),
    "InvalidDigest": (400, "The Content-MD5 you specified was invalid."),
    "InvalidBucketAclWithObjectOwnership": (400, "Bucket cannot have ACLs set with "
                                                 "ObjectOwnership's BucketOwnerEnforced setting"),
    "InvalidLocationConstraint": (400, "The specified location constraint is not valid."),
    "InvalidObjectState": (403, "The operation is not valid for the current state of the object."),
    "InvalidPart": (400, "One or more of the specified parts could not be found.  The part may not "
                         "have been uploaded, or the specified entity tag may not match the part's "
                         "entity tag."),
    "InvalidPartOrder": (400, "The list of parts was not in ascending order. Parts must be ordered "
                              "by part number."),
    "InvalidRange": (416, "The requested range is not satisfiable"),
    "InvalidRequest": (400, "Invalid Request"),
    "InvalidStorageClass": (400, "The storage class you specified is not valid."),
    "InvalidTag": (400, "The tag provided was not a valid tag."),
    "InvalidURI": (400, "Couldn't parse the specified URI."),
    "KeyTooLongError": (400, "Your key is too long."),
    "MalformedACLError": (400, "The XML you provided was not well-formed or did not validate "
                               "against our published schema."),
    "MalformedPOSTRequest": (400, "The body of your POST request is not well-formed "
                                  "multipart/form-data."),
    "MalformedPolicy": (400, "Policy has invalid resource."),
    "MalformedXML": (400, "The XML you provided was not well-formed or did not validate against "
                          "our published schema"),
    "MaxMessageLengthExceeded": (400, "Your request was too big."),
    "MetadataTooLarge": (400, "Your metadata headers exceed the maximum allowed metadata size."),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "MissingContentLength": (411, "You must provide the Content-Length HTTP header."),
    "MissingSecurityHeader": (400, "Your request was missing a required header."),
    "NoSuchBucket": (404, "The specified bucket does not exist"),
    "NoSuchBucketPolicy": (404, "The bucket policy does not exist"),
    "NoSuchCORSConfiguration": (404, "The CORS configuration does not exist"),
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchLifecycleConfiguration": (404, "The lifecycle configuration does not exist."),
    "NoSuchTagSet": (404, "The TagSet does not exist"),
    "NoSuchUpload": (404, "The specified upload does not exist. The upload ID may be invalid, or "
                          "the upload may have been aborted or completed."),
    "NoSuchVersion": (404, "The specified version does not exist."),
    "ObjectLockConfigurationNotFoundError": (404, "Object Lock configuration does not exist for "
                                                  "this bucket"),
    "NotImplemented": (501, "A header you provided implies functionality that is not implemented."),
    "OwnershipControlsNotFoundError": (404, "The bucket ownership controls were not found"),
    "NoSuchPublicAccessBlockConfiguration": (404, "The public access block configuration was not "
                                                  "found"),
    "PreconditionFailed": (412, "At least one of the preconditions you specified did not hold."),
    "RequestTimeTooSkewed": (403, "The difference between the request time and the current time "
                                  "is too large."),
    "RequestTimeout": (400, "Your socket connection to the server was not read from or written to "
                            "within the timeout period."),
    "SignatureDoesNotMatch": (403, "The request signature we calculated does not match the "
                                   "signature you provided. Check your key and signing method."),
    "ServiceUnavailable": (503, "Please reduce your request rate."),
    "SlowDown": (503, "Please reduce your request rate."),
    "AuthorizationHeaderMalformed": (400, "The authorization header is malformed."),
    "AuthorizationQueryParametersError": (400, "Error parsing the X-Amz-Credential parameter."),
    "XAmzContentSHA256Mismatch": (400, "The provided 'x-amz-content-sha256' header does not match "
                                       "what was computed."),
    "InvalidEncryptionAlgorithmError": (400, "The encryption request you specified is not valid."),
    "BadRequest": (400, "Bad Request"),
    "UserKeyMustBeSpecified": (400, "The bucket POST must contain the specified field name. If it "
                                    "is specified, please check the order of the fields."),
}


class S3Error(Exception):
    """An S3 failure: code (from ERRORS), optional message and extra XML fields."""

    def __init__(self, code: str, message: str | None = None, *, status: int | None = None,
                 headers: dict | None = None, **fields):
        default_status, default_message = ERRORS.get(code, (400, code))
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        self.headers = headers or {}
        self.fields = fields
        super().__init__(f"{code}: {self.message}")

    def to_xml(self, resource: str = "", request_id: str = "") -> bytes:

        # No <Resource> by default: like Swift's s3api, an error never echoes the request path
        # (a path can carry what an attacker wants reflected, see Swift's XXE tests).
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<Error>',
                 f"<Code>{escape(self.code)}</Code>", f"<Message>{escape(self.message)}</Message>"]
        for name, value in self.fields.items():
            parts.append(f"<{name}>{escape(str(value))}</{name}>")
        if resource:
            parts.append(f"<Resource>{escape(resource)}</Resource>")
        if request_id:
            parts.append(f"<RequestId>{escape(request_id)}</RequestId>")
        parts.append("</Error>")
        return "".join(parts).encode("utf-8")


def not_implemented(what: str) -> S3Error:
    """The answer for any S3 feature Strato does not implement: 501, never 500 (clients retry 500)."""
    return S3Error("NotImplemented", f"{what} is not implemented.")
