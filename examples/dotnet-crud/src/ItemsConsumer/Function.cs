using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Lambda.Core;
using Amazon.Lambda.SQSEvents;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.DefaultLambdaJsonSerializer))]

namespace ItemsConsumer;

/// <summary>
/// Applies stock changes from SQS (`{"id": "...", "delta": -2}`) to the
/// items table, reporting the messages it could not apply so SQS retries
/// only those (ReportBatchItemFailures).
/// </summary>
public class Function
{
    private static readonly string Table = Environment.GetEnvironmentVariable("TABLE_NAME") ?? "items";
    private readonly IAmazonDynamoDB _db;

    public Function() : this(new AmazonDynamoDBClient()) { }

    public Function(IAmazonDynamoDB db) => _db = db;

    public async Task<SQSBatchResponse> FunctionHandler(SQSEvent sqsEvent, ILambdaContext context)
    {
        var failures = new List<SQSBatchResponse.BatchItemFailure>();
        foreach (var message in sqsEvent.Records)
        {
            try
            {
                var change = JsonSerializer.Deserialize<StockChange>(message.Body)
                    ?? throw new JsonException("empty message");
                await _db.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = Table,
                    Key = new Dictionary<string, AttributeValue> { ["id"] = new() { S = change.Id } },
                    UpdateExpression = "ADD quantity :d",
                    ConditionExpression = "attribute_exists(id)",
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                    {
                        [":d"] = new() { N = change.Delta.ToString() },
                    },
                });
            }
            catch (Exception e) when (e is JsonException or ConditionalCheckFailedException)
            {
                context.Logger.LogWarning($"message {message.MessageId}: {e.Message}");
                failures.Add(new SQSBatchResponse.BatchItemFailure { ItemIdentifier = message.MessageId });
            }
        }
        return new SQSBatchResponse(failures);
    }

    private sealed class StockChange
    {
        [System.Text.Json.Serialization.JsonPropertyName("id")]
        public string Id { get; set; } = "";

        [System.Text.Json.Serialization.JsonPropertyName("delta")]
        public long Delta { get; set; }
    }
}
