using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FederatedSharp.Grpc.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace FederatedSharp.Grpc.Server;

/// <summary>Maps a call to a client id from its client certificate or bearer token, or refuses it.</summary>
internal sealed class ClientAuthenticator
{
    private readonly GrpcFederationOptions _options;
    private readonly Dictionary<string, string> _clientByTokenHash = new(StringComparer.Ordinal);

    public ClientAuthenticator(GrpcFederationOptions options)
    {
        _options = options;
        foreach (KeyValuePair<string, string> pair in options.ClientTokens)
        {
            _clientByTokenHash[Hash(pair.Value)] = pair.Key;
        }
    }

    /// <summary>The authenticated client id, or null when unauthenticated clients are allowed and none was presented.</summary>
    /// <exception cref="RpcException">UNAUTHENTICATED or PERMISSION_DENIED, with the reason.</exception>
    public string? Authenticate(ServerCallContext context) =>
        Authenticate(context.GetHttpContext().Connection.ClientCertificate, context.RequestHeaders.GetValue("authorization"));

    /// <summary>The authenticated client id of a connection's certificate and authorization, as <see cref="Authenticate(ServerCallContext)"/>.</summary>
    /// <exception cref="RpcException">UNAUTHENTICATED or PERMISSION_DENIED, with the reason.</exception>
    public string? Authenticate(X509Certificate2? certificate, string? authorization)
    {
        string? clientId = null;
        if (_options.ClientCertificateAuthority is { } authority && certificate is not null)
        {
            if (!FederationCertificates.IsIssuedBy(certificate, authority, requireClientAuth: true, out string? problem))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, $"The client certificate '{certificate.Subject}' is not valid for this federation: {problem}."));
            }

            if (_options.RevokedCertificateThumbprints.Contains(certificate.Thumbprint))
            {
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"The client certificate {certificate.Thumbprint} ('{certificate.Subject}') is revoked."));
            }

            clientId = FederationCertificates.GetClientId(certificate);
        }

        if (string.IsNullOrEmpty(authorization))
        {
            authorization = null;
        }

        if (_clientByTokenHash.Count > 0 && authorization is not null)
        {
            const string Scheme = "Bearer ";
            if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ||
                !_clientByTokenHash.TryGetValue(Hash(authorization[Scheme.Length..].Trim()), out string? tokenClient))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "The bearer token is not valid for this federation."));
            }

            if (clientId is not null && clientId != tokenClient)
            {
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"The certificate is for '{clientId}' but the token is for '{tokenClient}'."));
            }

            clientId = tokenClient;
        }

        if (clientId is null && !_options.AllowUnauthenticatedClients)
        {
            string wanted = (_options.ClientCertificateAuthority is not null, _clientByTokenHash.Count > 0) switch
            {
                (true, true) => "a client certificate issued by the federation CA or a bearer token",
                (true, false) => "a client certificate issued by the federation CA (mutual TLS)",
                _ => "a bearer token",
            };
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"No credentials: this federation requires {wanted}."));
        }

        if (clientId is not null && _options.RevokedClientIds.Contains(clientId))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Client '{clientId}' is revoked."));
        }

        return clientId;
    }

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
