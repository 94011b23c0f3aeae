using System.Net;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Lambda.APIGatewayEvents;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.DefaultLambdaJsonSerializer))]

namespace ItemsApi;

/// <summary>
/// CRUD on the items table behind a Function URL (payload format 2.0):
/// POST /items, GET /items/{id}, PUT /items/{id}, DELETE /items/{id}.
/// </summary>
public class Function
{
    private static readonly string Table = Environment.GetEnvironmentVariable("TABLE_NAME") ?? "items";
    private readonly IAmazonDynamoDB _db;

    public Function() : this(new AmazonDynamoDBClient()) { }

    public Function(IAmazonDynamoDB db) => _db = db;

    public async Task<APIGatewayHttpApiV2ProxyResponse> FunctionHandler(
        APIGatewayHttpApiV2ProxyRequest request, ILambdaContext context)
    {
        var method = request.RequestContext.Http.Method;
        var parts = (request.RawPath ?? "/").Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] != "items")
            return Json(HttpStatusCode.NotFound, new { error = "no such route" });
        var id = parts.Length > 1 ? parts[1] : null;
        try
        {
            return (method, id) switch
            {
                ("POST", null) => await Create(request.Body),
                ("GET", not null) => await Read(id),
                ("PUT", not null) => await Update(id, request.Body),
                ("DELETE", not null) => await Delete(id),
                _ => Json(HttpStatusCode.MethodNotAllowed, new { error = $"{method} not allowed here" }),
            };
        }
        catch (JsonException e)
        {
            return Json(HttpStatusCode.BadRequest, new { error = $"body is not JSON: {e.Message}" });
        }
    }

    private async Task<APIGatewayHttpApiV2ProxyResponse> Create(string? body)
    {
        var item = JsonSerializer.Deserialize<ItemInput>(body ?? "{}") ?? new ItemInput();
        if (string.IsNullOrWhiteSpace(item.Name))
            return Json(HttpStatusCode.BadRequest, new { error = "`name` is required" });
        var id = Guid.NewGuid().ToString();
        await _db.PutItemAsync(new PutItemRequest
        {
            TableName = Table,
            Item = new Dictionary<string, AttributeValue>
            {
                ["id"] = new() { S = id },
                ["name"] = new() { S = item.Name },
                ["quantity"] = new() { N = item.Quantity.ToString() },
            },
            ConditionExpression = "attribute_not_exists(id)",
        });
        return Json(HttpStatusCode.Created, new { id, name = item.Name, quantity = item.Quantity });
    }

    private async Task<APIGatewayHttpApiV2ProxyResponse> Read(string id)
    {
        var got = await _db.GetItemAsync(Table, new Dictionary<string, AttributeValue> { ["id"] = new() { S = id } });
        if (got.Item is null || got.Item.Count == 0)
            return Json(HttpStatusCode.NotFound, new { error = $"no item {id}" });
        return Json(HttpStatusCode.OK, ToJson(got.Item));
    }

    private async Task<APIGatewayHttpApiV2ProxyResponse> Update(string id, string? body)
    {
        var item = JsonSerializer.Deserialize<ItemInput>(body ?? "{}") ?? new ItemInput();
        try
        {
            var updated = await _db.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = new Dictionary<string, AttributeValue> { ["id"] = new() { S = id } },
                UpdateExpression = "SET #n = :n, quantity = :q",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#n"] = "name" },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                {
                    [":n"] = new() { S = item.Name ?? "" },
                    [":q"] = new() { N = item.Quantity.ToString() },
                },
                ConditionExpression = "attribute_exists(id)",
                ReturnValues = ReturnValue.ALL_NEW,
            });
            return Json(HttpStatusCode.OK, ToJson(updated.Attributes));
        }
        catch (ConditionalCheckFailedException)
        {
            return Json(HttpStatusCode.NotFound, new { error = $"no item {id}" });
        }
    }

    private async Task<APIGatewayHttpApiV2ProxyResponse> Delete(string id)
    {
        await _db.DeleteItemAsync(Table, new Dictionary<string, AttributeValue> { ["id"] = new() { S = id } });
        return new APIGatewayHttpApiV2ProxyResponse { StatusCode = (int)HttpStatusCode.NoContent };
    }

    private static Dictionary<string, object?> ToJson(Dictionary<string, AttributeValue> item) => new()
    {
        ["id"] = item["id"].S,
        ["name"] = item.TryGetValue("name", out var n) ? n.S : null,
        ["quantity"] = item.TryGetValue("quantity", out var q) ? long.Parse(q.N) : 0,
    };

    private static APIGatewayHttpApiV2ProxyResponse Json(HttpStatusCode status, object body) => new()
    {
        StatusCode = (int)status,
        Headers = new Dictionary<string, string> { ["content-type"] = "application/json" },
        Body = JsonSerializer.Serialize(body),
    };

    private sealed class ItemInput
    {
        [System.Text.Json.Serialization.JsonPropertyName("name")]
        public string? Name { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("quantity")]
        public long Quantity { get; set; }
    }
}
