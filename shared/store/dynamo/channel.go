package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orderhub/shared/channel/poll"
	"orderhub/shared/channel/webhook"
	"orderhub/shared/fault"
	"orderhub/shared/store"
)

var (
	_ poll.States        = (*Store)(nil)
	_ webhook.Deliveries = (*Store)(nil)
)

// Items and attributes of the channel table (see doc.go).
const (
	pkPoll         = "POLL"
	prefixDelivery = "PUSH#"
	skDelivery     = "PUSH"
	// attrExpiresAt is the channel table's TTL attribute: epoch seconds, as DynamoDB's TTL wants.
	attrExpiresAt = "expires_at"
	// maxDeliveryKey keeps a delivery's partition key well inside DynamoDB's 2,048 bytes; longer
	// keys (no platform sends one) are stored by their SHA-256.
	maxDeliveryKey = 1024
)

func pollKey(shop string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pkPoll), attrSK: str(shop)}
}

func deliveryKey(key string) map[string]types.AttributeValue {
	if len(key) > maxDeliveryKey {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return map[string]types.AttributeValue{attrPK: str(prefixDelivery + key), attrSK: str(skDelivery)}
}

// epochCeil is t in whole epoch seconds, rounded up: a delivery id is remembered at least until
// its expiry, never less.
func epochCeil(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// PollState returns a shop's pull state, or a zero state with Shop set for a shop never polled.
// The read is strongly consistent: the poller reads what its previous run wrote.
func (s *Store) PollState(ctx context.Context, shop string) (poll.State, error) {
	item, err := s.getItem(ctx, s.tables.Channel, pollKey(shop))
	if err != nil || item == nil {
		return poll.State{Shop: shop}, err
	}
	return decodePollState(item)
}

// PutPollState stores a shop's pull state, replacing the previous one.
func (s *Store) PutPollState(ctx context.Context, st poll.State) error {
	doc, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("dynamo: encode poll state: %w", err)
	}
	item := pollKey(st.Shop)
	item[attrDoc] = str(string(doc))
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.tables.Channel), Item: item})
	if err != nil {
		return unavailable("PutItem", err)
	}
	return nil
}

// PollStates returns every shop's pull state ordered by shop, for the shops' status page: one
// strongly consistent Query of the POLL partition (one item per shop).
func (s *Store) PollStates(ctx context.Context) ([]poll.State, error) {
	var out []poll.State
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Channel),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkPoll)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable("Query", err)
		}
		for _, item := range page.Items {
			st, err := decodePollState(item)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func decodePollState(item map[string]types.AttributeValue) (poll.State, error) {
	var st poll.State
	if err := json.Unmarshal([]byte(strAttr(item, attrDoc)), &st); err != nil {
		return poll.State{}, fmt.Errorf("dynamo: decode poll state of %s: %w", strAttr(item, attrSK), err)
	}
	st.Shop = strAttr(item, attrSK)
	return st, nil
}

// Delivered reports whether a push delivery id was recorded and has not expired. DynamoDB's TTL
// deletes expired items only eventually (typically within days), so the expiry is checked here too.
func (s *Store) Delivered(ctx context.Context, key string) (bool, error) {
	item, err := s.getItem(ctx, s.tables.Channel, deliveryKey(key))
	if err != nil || item == nil {
		return false, err
	}
	exp, ok := numAttr(item, attrExpiresAt)
	return ok && exp > s.now().Unix(), nil
}

// MarkDelivered records a processed delivery id until expires with a conditional put: it writes
// when the id is new, expired, or remembered for less long, so that a racing or repeated mark never
// shortens how long an id is remembered. A mark that loses to a longer one is not an error.
//
// A lost condition is checked by reading the item back: only an item remembered at least as long
// ends the call. (DynamoDB Local has been seen to refuse a racing put while no such item was
// stored; the read costs one request, and only when marks race.)
func (s *Store) MarkDelivered(ctx context.Context, key string, expires time.Time) error {
	exp := epochCeil(expires)
	for attempt := 0; ; attempt++ {
		item := deliveryKey(key)
		item[attrExpiresAt] = num(exp)
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(s.tables.Channel),
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #exp < :exp"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#exp": attrExpiresAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num(exp)},
		})
		var ccf *types.ConditionalCheckFailedException
		if err == nil {
			return nil
		}
		if !errors.As(err, &ccf) {
			return unavailable("PutItem", err)
		}
		stored, err := s.getItem(ctx, s.tables.Channel, deliveryKey(key))
		if err != nil {
			return err
		}
		if have, ok := numAttr(stored, attrExpiresAt); ok && have >= exp {
			return nil
		}
		if attempt == 4 {
			return fault.Wrap(store.ErrContention, errors.New("delivery mark kept losing its condition"))
		}
	}
}
