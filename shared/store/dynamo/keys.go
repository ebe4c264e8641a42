package dynamo

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orderhub/shared/auth"
	"orderhub/shared/fault"
)

// Items and attributes of the keys table (see doc.go).
const (
	prefixAPIKey = "APIKEY#"
	prefixKeyID  = "KEYID#"

	attrKeyID      = "key_id"
	attrName       = "name"
	attrRole       = "role"
	attrKeySupp    = "supplier"
	attrHash       = "hash"
	attrCreatedAt  = "created_ns"
	attrCreatedBy  = "created_by"
	attrRevokedAt  = "revoked_ns"
	keysPartition  = "pk"
	keyTxAttempts  = 10
	conditionUnset = "attribute_not_exists(pk)"
)

func apiKeyKey(hash string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{keysPartition: str(prefixAPIKey + hash)}
}

func keyIDKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{keysPartition: str(prefixKeyID + id)}
}

// PutKey stores k and its id → hash item in one transaction; either one existing is a conflict.
func (s *Store) PutKey(ctx context.Context, k auth.Key) error {
	item := apiKeyKey(k.Hash)
	item[attrKeyID] = str(k.ID)
	item[attrName] = str(k.Name)
	item[attrRole] = str(string(k.Role))
	item[attrHash] = str(k.Hash)
	if k.Supplier != "" {
		item[attrKeySupp] = str(k.Supplier)
	}
	if k.CreatedBy != "" {
		item[attrCreatedBy] = str(k.CreatedBy)
	}
	if !k.CreatedAt.IsZero() {
		item[attrCreatedAt] = num(nanos(k.CreatedAt))
	}
	if !k.RevokedAt.IsZero() {
		item[attrRevokedAt] = num(nanos(k.RevokedAt))
	}
	idItem := keyIDKey(k.ID)
	idItem[attrHash] = str(k.Hash)
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.tables.Keys), Item: item, ConditionExpression: aws.String(conditionUnset)}},
		{Put: &types.Put{TableName: aws.String(s.tables.Keys), Item: idItem, ConditionExpression: aws.String(conditionUnset)}},
	}}
	for attempt := 0; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		reasons := cancelReasons(err)
		if slices.Contains(reasons, "ConditionalCheckFailed") {
			return auth.ErrKeyExists
		}
		// A racing put of the same key may cancel this one with a conflict before either commits;
		// trying again shows whether the other one won.
		if !lostRace(err) || attempt+1 >= keyTxAttempts {
			return unavailable("TransactWriteItems", err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// KeyByHash returns the key whose hash is hash, revoked or not. The read is strongly consistent so
// that a revocation takes effect on the next request.
func (s *Store) KeyByHash(ctx context.Context, hash string) (auth.Key, error) {
	if hash == "" {
		return auth.Key{}, auth.ErrUnknownKey
	}
	item, err := s.getItem(ctx, s.tables.Keys, apiKeyKey(hash))
	if err != nil {
		return auth.Key{}, err
	}
	if item == nil {
		return auth.Key{}, auth.ErrUnknownKey
	}
	return decodeKey(item), nil
}

// ListKeys returns every key, oldest first. The keys table holds only keys (a few dozen items), so
// a strongly consistent Scan costs a handful of read units and sees a key put a moment ago.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	var keys []auth.Key
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
		TableName:                 aws.String(s.tables.Keys),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("begins_with(#pk, :p)"),
		ExpressionAttributeNames:  map[string]string{"#pk": keysPartition},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(prefixAPIKey)},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable("Scan", err)
		}
		for _, item := range out.Items {
			keys = append(keys, decodeKey(item))
		}
	}
	slices.SortFunc(keys, func(a, b auth.Key) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return keys, nil
}

// RevokeKey marks the key revoked at at. A key that is already revoked keeps its first revocation
// time, so a repeated request does not rewrite history.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	if id == "" {
		return auth.ErrKeyNotFound
	}
	idItem, err := s.getItem(ctx, s.tables.Keys, keyIDKey(id))
	if err != nil {
		return err
	}
	if idItem == nil {
		return auth.ErrKeyNotFound
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Keys),
		Key:                       apiKeyKey(strAttr(idItem, attrHash)),
		UpdateExpression:          aws.String("SET #rv = if_not_exists(#rv, :at)"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #kid = :id"),
		ExpressionAttributeNames:  map[string]string{"#rv": attrRevokedAt, "#pk": keysPartition, "#kid": attrKeyID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": num(nanos(at)), ":id": str(id)},
	})
	if err != nil {
		if lostRace(err) {
			return fault.Wrap(auth.ErrKeyNotFound, err)
		}
		return unavailable("UpdateItem", err)
	}
	return nil
}

func decodeKey(item map[string]types.AttributeValue) auth.Key {
	k := auth.Key{
		ID:        strAttr(item, attrKeyID),
		Name:      strAttr(item, attrName),
		Role:      auth.Role(strAttr(item, attrRole)),
		Supplier:  strAttr(item, attrKeySupp),
		Hash:      strAttr(item, attrHash),
		CreatedBy: strAttr(item, attrCreatedBy),
	}
	if n, ok := numAttr(item, attrCreatedAt); ok {
		k.CreatedAt = fromNanos(n)
	}
	if n, ok := numAttr(item, attrRevokedAt); ok {
		k.RevokedAt = fromNanos(n)
	}
	return k
}
